"""The local complexity classifier: loads, classifies, survives odd input, holds its accuracy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from switchboard.domain import Message
from switchboard.routing.complexity import (
    DEFAULT_MODEL_PATH,
    TIERS,
    ComplexityClassifier,
    Tier,
)

QUERIES = DEFAULT_MODEL_PATH.parent / "complexity_queries.jsonl"


@pytest.fixture(scope="module")
def clf() -> ComplexityClassifier:
    return ComplexityClassifier.load()


def user(text: Any) -> list[Message]:
    return [Message("user", text)]


def test_committed_model_loads_and_is_small(clf: ComplexityClassifier) -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size < 1_000_000
    scores = clf.scores(user("hello"))
    assert set(scores) == set(TIERS)
    assert sum(scores.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("hi there!", Tier.SIMPLE),
        ("what's the capital of France?", Tier.SIMPLE),
        ("translate 'thank you very much' into German", Tier.SIMPLE),
        ("explain how a hash table works, with an example", Tier.MODERATE),
        ("write a polite email to my landlord about a leaking kitchen tap", Tier.MODERATE),
        ("write a python function that returns the median of a list", Tier.MODERATE),
        (
            "Design a globally distributed key-value store with tunable consistency: the "
            "replication protocol, failure handling, and how you'd test it under network "
            "partitions.",
            Tier.COMPLEX,
        ),
        (
            "Prove that there are infinitely many primes, then show that the sum of their "
            "reciprocals diverges.",
            Tier.COMPLEX,
        ),
    ],
)
def test_obvious_examples(clf: ComplexityClassifier, text: str, tier: Tier) -> None:
    assert clf.classify(user(text)) is tier


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [Message("user", None)],
        [Message("user", "")],
        [Message("user", [{"type": "image_url", "image_url": {"url": "data:,"}}])],
        [Message("user", [None, 3, "loose string", {"type": "text", "text": None}])],  # type: ignore[list-item]
        [Message("system", "be brief"), Message("tool", None, tool_call_id="call_1")],
        [Message("assistant", None, tool_calls=[{"id": "c", "type": "function"}])],
    ],
)
def test_empty_and_non_text_content(clf: ComplexityClassifier, messages: list[Message]) -> None:
    assert clf.classify(messages) in TIERS
    assert sum(clf.scores(messages).values()) == pytest.approx(1.0)


def test_text_parts_read_like_a_string(clf: ComplexityClassifier) -> None:
    text = "explain how a hash table works, with an example"
    parts = [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": "x"}}]
    assert clf.scores(user(parts)) == clf.scores(user(text))


def test_huge_message_is_bounded(clf: ComplexityClassifier) -> None:
    huge = "please find the bug in this log:\n" + "ERROR worker stalled at step 7\n" * 100_000
    assert clf.classify(user(huge)) in TIERS  # its speed is measured in bench/routing_eval.py


def test_last_user_message_decides(clf: ComplexityClassifier) -> None:
    hard = (
        "Design a payments ledger that never creates or destroys money, supports reversals "
        "and audits, and scales past one database; state the invariants and how to verify them."
    )
    chat = [Message("user", hard), Message("assistant", "Here is a design..."), *user("thanks!")]
    assert clf.classify(user(hard)) is Tier.COMPLEX
    assert clf.classify(chat) is Tier.SIMPLE


def test_long_conversation_leans_complex(clf: ComplexityClassifier) -> None:
    query = "ok, and how would that change the numbers?"
    history = [
        Message("user" if i % 2 == 0 else "assistant", "a long discussion of the plan " * 100)
        for i in range(12)
    ]
    alone = clf.scores(user(query))
    in_context = clf.scores(
        [Message("system", "You are a careful analyst."), *history, *user(query)]
    )
    assert in_context[Tier.COMPLEX] > alone[Tier.COMPLEX]
    assert in_context[Tier.SIMPLE] < alone[Tier.SIMPLE]


def test_held_out_accuracy(clf: ComplexityClassifier) -> None:
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    test = [r for r in rows if r["split"] == "test"]
    assert len(test) >= 100
    correct = sum(clf.classify(user(r["text"])).value == r["tier"] for r in test)
    assert correct / len(test) >= 0.9


def test_labelled_set_shape() -> None:
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 450
    assert {r["tier"] for r in rows} == {t.value for t in TIERS}
    assert len({r["text"] for r in rows}) == len(rows)
    test_share = sum(r["split"] == "test" for r in rows) / len(rows)
    assert 0.2 <= test_share <= 0.3


def test_deterministic(clf: ComplexityClassifier) -> None:
    chat = user("compare postgres and mysql for a small web app")
    again = ComplexityClassifier.load()
    assert clf.scores(chat) == clf.scores(chat) == again.scores(chat)


def test_rejects_a_model_built_for_other_features(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    data["dense"]["names"] = data["dense"]["names"][:-1]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="dense features"):
        ComplexityClassifier.load(path)
