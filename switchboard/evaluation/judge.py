"""LLM-as-judge: the grading prompt and the reading of its verdict (the call itself is the
caller's, through the pipeline)."""

from __future__ import annotations

import re

from switchboard.domain import Message

GRADER = (
    "You grade answers to questions. Compare the candidate answer with the reference answer. "
    "The candidate is CORRECT if it states the same fact as the reference, even in other "
    "words or with more detail; otherwise it is INCORRECT. Reply with one word: CORRECT or "
    "INCORRECT."
)
_VERDICT = re.compile(r"\b(INCORRECT|CORRECT)\b", re.IGNORECASE)


def judge_messages(question: str, references: tuple[str, ...], answer: str) -> list[Message]:
    refs = " | ".join(references)
    body = f"Question: {question}\nReference answer: {refs}\nCandidate answer: {answer}"
    return [Message("system", GRADER), Message("user", body)]


def verdict(reply: str) -> float | None:
    """1.0 (correct), 0.0 (incorrect), or None when the judge said neither."""
    found = _VERDICT.search(reply)
    if found is None:
        return None
    return 1.0 if found.group(1).upper() == "CORRECT" else 0.0
