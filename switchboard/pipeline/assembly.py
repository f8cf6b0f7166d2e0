"""Assemble a stream of chunks into the reply it spells out: text, tool calls, finish, usage.

The one place that knows how deltas add up; the accountant keeps one per stream, and the simple
API, the WebSocket, the conversation memory (and the cache) read the result from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchboard.domain import ChatChunk, ChatResponse, Choice, Usage


@dataclass(slots=True)
class _ChoiceSoFar:
    parts: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None


def _merge_tool_call(into: dict[int, dict[str, Any]], delta: dict[str, Any]) -> None:
    """OpenAI streams a tool call as fragments keyed by `index`; arguments arrive in pieces."""
    index = delta.get("index", len(into))
    call = into.setdefault(index, {"type": "function", "function": {"name": "", "arguments": ""}})
    if delta.get("id"):
        call["id"] = delta["id"]
    if delta.get("type"):
        call["type"] = delta["type"]
    fn = delta.get("function") or {}
    if fn.get("name"):
        call["function"]["name"] += fn["name"]
    if fn.get("arguments"):
        call["function"]["arguments"] += fn["arguments"]


class ReplyAssembler:
    """Feed it every chunk of one stream; read the reply so far at any time."""

    __slots__ = ("_choices", "first_chunk", "pieces", "usage")

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceSoFar] = {}
        self.pieces = 0  # content or tool-call deltas seen (a token estimate when none reported)
        self.usage: Usage | None = None  # as reported by the upstream, if it did
        self.first_chunk: ChatChunk | None = None

    def add(self, chunk: ChatChunk) -> int:
        """Take one chunk; returns how many content deltas it held."""
        if self.first_chunk is None:
            self.first_chunk = chunk
        n = 0
        for c in chunk.choices:
            so_far = self._choices.get(c.index)
            if so_far is None:
                so_far = self._choices[c.index] = _ChoiceSoFar()
            if c.content:
                so_far.parts.append(c.content)
                n += 1
            if c.tool_calls:
                for delta in c.tool_calls:
                    _merge_tool_call(so_far.tool_calls, delta)
                n += 1
            if c.finish_reason:
                so_far.finish_reason = c.finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage
        self.pieces += n
        return n

    def text(self, index: int = 0) -> str:
        so_far = self._choices.get(index)
        return "".join(so_far.parts) if so_far is not None else ""

    def finish_reason(self, index: int = 0) -> str | None:
        so_far = self._choices.get(index)
        return so_far.finish_reason if so_far is not None else None

    def to_response(self, usage: Usage | None = None) -> ChatResponse:
        """The whole reply as one non-streamed response (e.g. for a cache or a job result)."""
        first = self.first_chunk
        choices = [
            Choice(
                index=i,
                content="".join(c.parts) if c.parts or not c.tool_calls else None,
                finish_reason=c.finish_reason,
                tool_calls=[c.tool_calls[k] for k in sorted(c.tool_calls)] or None,
            )
            for i, c in sorted(self._choices.items())
        ]
        return ChatResponse(
            id=first.id if first is not None else "",
            created=first.created if first is not None else 0,
            model=first.model if first is not None else "",
            choices=choices,
            usage=usage or self.usage,
        )
