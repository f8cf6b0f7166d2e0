"""Features of a chat for the complexity classifier: the same code at training and at run time.

A chat is reduced to its last user message (truncated for speed) and a few numbers about the
conversation around it. The message becomes sparse word uni/bigram features plus a short vector
of hand-made signals (length, questions, code, constraints, reasoning verbs).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.domain import Message

HEAD_CHARS = 6000  # a huge message is read at its head and tail only; its length still counts
TAIL_CHARS = 2000

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CODE_CHAR = re.compile(r"[{}();=<>\[\]_`|\\]")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+")

_CONSTRAINT = frozenset(
    "must should without under within only max min least most budget limit limits constraint "
    "constraints ensure guarantee guarantees require requires required cannot can't never "
    "except including include per deadline".split()
)
_REASONING = frozenset(
    "prove proof derive design architect analyze analyse evaluate assess justify compare "
    "optimize optimise diagnose tradeoffs trade model estimate plan reason why synthesize "
    "critique implement migrate scale formulate generalize strategy evidence".split()
)

DENSE_NAMES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "questions",
    "log_sentences",
    "log_lines",
    "code_fence",
    "code_char_ratio",
    "log_numbers",
    "constraint_words",
    "reasoning_words",
    "list_items",
    "log_commas",
)


@dataclass(frozen=True, slots=True)
class ChatView:
    """What the classifier reads of a chat: the query text and the size of its surroundings."""

    query: str  # the last user message, lower-cased and truncated to head + tail
    query_chars: int  # the untruncated length
    prior_chars: int  # text of the earlier user/assistant turns
    system_chars: int  # system and developer prompts


def content_text(content: Any) -> str:
    """Text of an OpenAI `content` value; tolerant of None, odd parts and non-string text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and part.get("type") in ("text", "input_text"):
            text = part.get("text")
            if isinstance(text, str):
                parts.append(text)
    return "\n".join(parts)


def view_of(messages: Sequence[Message]) -> ChatView:
    """The last user message (or, without one, the last message with text) and its context."""
    texts = [(m.role, content_text(m.content)) for m in messages]
    index = next((i for i in range(len(texts) - 1, -1, -1) if texts[i][0] == "user"), None)
    if index is None:
        index = next((i for i in range(len(texts) - 1, -1, -1) if texts[i][1]), None)
    query = texts[index][1] if index is not None else ""
    system = sum(len(t) for role, t in texts if role in ("system", "developer"))
    prior = sum(
        len(t) for i, (role, t) in enumerate(texts) if i != index and role in ("user", "assistant")
    )
    return ChatView(_truncate(query).lower(), len(query), prior, system)


def view_of_text(text: str) -> ChatView:
    """A single-message chat, as the labelled set stores its queries."""
    return ChatView(_truncate(text).lower(), len(text), 0, 0)


def _truncate(text: str) -> str:
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


def sparse_features(words: list[str]) -> set[str]:
    """Word unigrams and adjacent bigrams, as binary feature names."""
    feats = set(words)
    feats.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return feats


def dense_features(view: ChatView, words: list[str]) -> list[float]:
    """The hand-made signals, in DENSE_NAMES order (standardized later with the model's stats)."""
    text = view.query
    n_chars = max(len(text), 1)
    return [
        math.log1p(view.query_chars),
        math.log1p(len(words)),
        min(text.count("?"), 5),
        math.log1p(len(_SENTENCE_END.findall(text))),
        math.log1p(text.count("\n")),
        1.0 if "```" in text else 0.0,
        len(_CODE_CHAR.findall(text)) / n_chars,
        math.log1p(len(_NUMBER.findall(text))),
        _count_in(words, _CONSTRAINT),
        _count_in(words, _REASONING),
        math.log1p(len(_LIST_ITEM.findall(text))),
        math.log1p(text.count(",")),
    ]


def _count_in(words: Iterable[str], lexicon: frozenset[str]) -> float:
    return math.log1p(sum(1 for w in words if w in lexicon))


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text)
