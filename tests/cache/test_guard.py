"""The false-hit guard on pairs of questions: each kind of difference it refuses, and the
rephrasings it must still let through (bench/cache_eval measures both on labeled sets)."""

from __future__ import annotations

import pytest

from switchboard.cache.edits import same_word, swapped, tokens
from switchboard.cache.guard import differs


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("how do i cook rice in a pressure cooker", "how do i cook quinoa in a pressure cooker"),
        ("what is the capital of portugal?", "what is the capital of poland?"),
        ("When was the Eiffel Tower built?", "Where was the Eiffel Tower built?"),
        ("How do I care for a cat?", "How do I care for a dog?"),
        ("Is ibuprofen safe for kids?", "Is acetaminophen safe for kids?"),
        ("What is a fixed-rate mortgage?", "What is an adjustable-rate mortgage?"),
    ],
)
def test_one_word_swapped_for_another_is_refused(a: str, b: str) -> None:
    assert differs(b, a) == "swap"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Is Oslo colder than Bergen in winter?", "Is Bergen colder than Oslo in winter?"),
        ("cheapest flights from lyon to nice", "cheapest flights from nice to lyon"),
        ("Is a mortgage riskier than a car loan?", "Is a car loan riskier than a mortgage?"),
    ],
)
def test_words_moved_across_a_direction_word_are_refused(a: str, b: str) -> None:
    assert differs(b, a) == "order"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I enable cookies in Safari?", "How do I block cookies in Safari?"),
        ("How do I maximize a window?", "How do I make a window minimize itself?"),
        ("How can I gain weight healthily?", "What is the healthiest way to lose weight?"),
        ("Which plan is cheaper, monthly or yearly?", "Which one is pricier: monthly or yearly?"),
        ("How do I read a CSV file with pandas?", "Show me how pandas can write a CSV file."),
    ],
)
def test_opposites_the_first_guard_did_not_know_are_refused(a: str, b: str) -> None:
    assert differs(b, a) == "opposite"


def test_a_name_with_capitals_inside_is_a_name() -> None:
    assert differs("How do I install Python on macOS?", "How do I install Python on Windows?")
    assert differs("How do I back up my iPhone?", "How do I back up my Pixel?") == "entity"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I reverse a list in Python?", "What's the way to reverse a Python list?"),
        ("What is the greenhouse effect?", "Explain the greenhouse effect."),
        ("Who painted the Mona Lisa?", "Which artist painted the Mona Lisa?"),
        ("how do i recieve a wire transfer", "how do i receive a wire transfer"),
        ("What are good recipes for lentil soup?", "What is a good recipe for lentil soup?"),
        ("How do I reset my password?", "How do I reset the password?"),
        ("What is the distance from Paris to Lyon?", "How far is Lyon from Paris?"),
        ("Hi! Can you tell me what a sonnet is, please?", "What is a sonnet?"),
    ],
)
def test_rephrasings_pass(a: str, b: str) -> None:
    assert differs(b, a) is None


def test_swapped_reports_the_words_and_same_word_knows_forms_and_typos() -> None:
    assert swapped(tokens("how do I cook rice"), tokens("how do I cook quinoa")) == (
        "rice",
        "quinoa",
    )
    assert tokens("What's it?") == ["what", "is", "it"]
    assert same_word("plans", "plan") and same_word("recieve", "receive")
    assert not same_word("iran", "iraq") and not same_word("austria", "australia")
