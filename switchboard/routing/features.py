"""Features of a chat for the complexity classifier: the same code at training and at run time.

A chat is reduced to its last user message (truncated for speed) and a few numbers about the
conversation around it. The message becomes sparse word uni/bigram features plus a short vector
of hand-made signals (length, questions, code, constraints, reasoning verbs). A message of the
form "instruction: pasted text" (or an instruction, a blank line, then the text) is also read
as its instruction alone, so that "translate this: <a long email>" looks like the short task it
is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from switchboard.domain import Message

HEAD_CHARS = 6000  # a huge message is read at its head and tail only; its length still counts
TAIL_CHARS = 2000

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CODE_CHAR = re.compile(r"[{}();=<>\[\]_`|\\]")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+")
_INSTRUCTION_END = re.compile(r":\s|\n\s*\n")  # "do this: <text>" or "do this\n\n<text>"
INSTRUCTION_CHARS = 300  # a break later than this does not introduce a payload
PAYLOAD_FEATURE = "<payload>"

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
_TRANSFORM = frozenset(
    "translate translation fix convert sort format capitalize proofread replace rewrite reverse "
    "count extract spell correct remove put turn change add number bold shorten shorter "
    "uppercase lowercase round pick label".split()
)
_EXPOSITION = frozenset(
    "explain how why describe summarize summarise compare difference write draft help walk "
    "outline review tips".split()
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
    "log_instruction_words",
    "payload_share",
    "instruction_transform_verbs",
    "instruction_exposition_verbs",
    "instruction_reasoning_verbs",
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


def extract(view: ChatView) -> tuple[set[str], list[float]]:
    """Binary sparse feature names and the dense vector (in DENSE_NAMES order) of a chat.

    With a pasted payload, the sparse features come from the instruction only: the words of an
    email to translate say nothing about how hard the task is. The payload still counts in the
    dense signals (length, code, lines).
    """
    words = _WORD.findall(view.query)
    instruction, payload = _split_instruction(view.query)
    instruction_words = _WORD.findall(instruction) if payload else words
    sparse = set(instruction_words)
    sparse.update(f"{a} {b}" for a, b in pairwise(instruction_words))
    if instruction_words:
        sparse.add("^" + instruction_words[0])
    if len(instruction_words) > 1:
        sparse.add(f"^{instruction_words[0]} {instruction_words[1]}")
    if payload:
        sparse.add(PAYLOAD_FEATURE)
    return sparse, _dense(view, words, instruction_words, len(payload))


def _split_instruction(text: str) -> tuple[str, str]:
    match = _INSTRUCTION_END.search(text, 0, INSTRUCTION_CHARS)
    if match is None:
        return text, ""
    return text[: match.start()], text[match.end() :]


def _dense(view: ChatView, words: list[str], instruction: list[str], payload: int) -> list[float]:
    text = view.query
    # Questions, numbers, commas and constraint words describe the task, so with a payload they
    # are read from the instruction: the numbers in a pasted table are data, not requirements.
    ask = text[: len(text) - payload] if payload else text
    n_chars = max(len(text), 1)
    return [
        math.log1p(view.query_chars),
        math.log1p(len(words)),
        min(ask.count("?"), 5),
        math.log1p(len(_SENTENCE_END.findall(ask))),
        math.log1p(text.count("\n")),
        1.0 if "```" in text else 0.0,
        len(_CODE_CHAR.findall(text)) / n_chars,
        math.log1p(len(_NUMBER.findall(ask))),
        _count_in(instruction, _CONSTRAINT),
        _count_in(instruction, _REASONING),
        math.log1p(len(_LIST_ITEM.findall(text))),
        math.log1p(ask.count(",")),
        math.log1p(len(instruction)),
        payload / n_chars,
        _count_in(instruction, _TRANSFORM),
        _count_in(instruction, _EXPOSITION),
        math.log1p(len(set(instruction) & _REASONING)),
    ]


def _count_in(words: Iterable[str], lexicon: frozenset[str]) -> float:
    return math.log1p(sum(1 for w in words if w in lexicon))
