"""Assemble a stream of chunks into the reply it spells out: text, tool calls, finish, usage,
and what the deltas carry beside them (reasoning, refusal, legacy function_call, logprobs).

The one place that knows how deltas add up; the accountant keeps one per stream, and the simple
API, the WebSocket, the conversation memory (and the cache) read the result from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchboard.domain import ChatChunk, ChatResponse, Choice, Usage

_TEXT_FIELDS = ("reasoning_content", "refusal")  # streamed in pieces, like content


@dataclass(slots=True)
class _ChoiceSoFar:
    parts: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    extra: dict[str, Any] | None = None  # the message's other fields, assembled
    logprobs: dict[str, list[Any] | None] | None = None

    def add_delta_extra(self, delta: dict[str, Any]) -> bool:
        """Fold in a delta's other fields; True when it held generated text."""
        extra = self.extra if self.extra is not None else {}
        self.extra = extra
        text = False
        for key, value in delta.items():
            if key == "content":  # a `content: null` kept for the wire; the text is in parts
                continue
            if key in _TEXT_FIELDS and isinstance(value, str):
                extra[key] = (extra.get(key) or "") + value
                text = text or bool(value)
            elif key == "function_call" and isinstance(value, dict):
                call = extra[key] = extra.get(key) or {"name": "", "arguments": ""}
                call["name"] += value.get("name") or ""
                call["arguments"] += value.get("arguments") or ""
                text = True
            elif value is not None or key not in extra:
                extra[key] = value
        return text

    def add_logprobs(self, logprobs: Any) -> None:
        """Streamed logprobs arrive as lists per delta: the reply's are their concatenation."""
        if not isinstance(logprobs, dict):
            return
        so_far = self.logprobs if self.logprobs is not None else {}
        self.logprobs = so_far
        for key, value in logprobs.items():
            kept = so_far.get(key)
            if isinstance(value, list):
                if kept is None:
                    so_far[key] = list(value)
                else:
                    kept.extend(value)
            else:
                so_far.setdefault(key, None)


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
            if c.delta_extra and so_far.add_delta_extra(c.delta_extra):
                n += 1
            if c.extra and "logprobs" in c.extra:
                so_far.add_logprobs(c.extra["logprobs"])
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
                message_extra=c.extra,
                extra={"logprobs": c.logprobs} if c.logprobs is not None else None,
            )
            for i, c in sorted(self._choices.items())
        ]
        return ChatResponse(
            id=first.id if first is not None else "",
            created=first.created if first is not None else 0,
            model=first.model if first is not None else "",
            choices=choices,
            usage=usage or self.usage,
            extra=first.extra if first is not None else None,
        )
