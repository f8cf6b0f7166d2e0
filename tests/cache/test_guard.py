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


# What the third held-out set found (issue 13): two false hits and paraphrases refused; the
# last three cases are what the looser number, unit and in/out rules must still refuse.
@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        (
            "Which crypto transactions are taxable?",
            "Which crypto transactions are non-taxable?",
            "negation",
        ),
        ("Is this fabric flammable?", "Is this fabric non-flammable?", "negation"),
        ("How do I add money to my PayPal?", "How do I withdraw money from PayPal?", "opposite"),
        (
            "Why do old cars depreciate so quickly?",
            "Which old cars appreciate in value?",
            "opposite",
        ),
        (
            "When was the tax filing deadline last year?",
            "When is the tax filing deadline next year?",
            "date",
        ),
        (
            "What were the sales figures this quarter?",
            "What were the sales figures last quarter?",
            "date",
        ),
        (
            "How do I run a cron job every five minutes?",
            "How do I run a cron job every 6 minutes?",
            "number",
        ),
        ("How do I zoom in on a Mac?", "How do I zoom out on a Mac?", "opposite"),
        ("Convert 12 in to cm", "Convert 12 cm to in", "unit"),
    ],
)
def test_the_third_held_out_sets_kinds_of_negative_are_refused(a: str, b: str, reason: str) -> None:
    assert differs(b, a) == reason


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "How can I run a cron job every 5 minutes?",
            "Crontab syntax to run a job every five minutes?",
        ),
        (
            "How do I squash my last three commits?",
            "How can I combine the last 3 commits into one?",
        ),
        ("How many push-ups should I do a day?", "What's a good daily number of push-ups?"),
        ("How long should I boil an egg?", "How many minutes do I boil an egg for?"),
        (
            "How do I see what is using port 8080 on Linux?",
            "What's listening on port 8080 in Linux?",
        ),
        ("How do I get rid of ants in the kitchen?", "How do I keep ants out of my kitchen?"),
        (
            "Do I need a visa for Japan as a US citizen?",
            "As an American, do I need a visa for Japan?",
        ),
        (
            "How do I unclog a drain without chemicals?",
            "What's a chemical-free way to unclog a drain?",
        ),
        (
            "Why haven't I received my confirmation email?",
            "I never got the confirmation email, why?",
        ),
        ("How do I make a sourdough starter", "How do I make a sour dough starter?"),
        ("What is a 401(k)?", "Explain what a 401k is."),
    ],
)
def test_what_the_third_held_out_set_refused_passes(a: str, b: str) -> None:
    assert differs(b, a) is None
