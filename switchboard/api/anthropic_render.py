"""Domain replies -> Anthropic Messages wire format: the message JSON, the streamed events and
the error envelope `{"type": "error", "error": {"type", "message"}}`.

Stop reasons and error types are the inverse of the provider adapter's maps
(providers/anthropic_stream.py); usage splits the prompt back into uncached, cache-read and
cache-written tokens, as Anthropic counts them.
"""

from __future__ import annotations

from typing import Any

import orjson

from switchboard.api.render import sse
from switchboard.domain import ChatChunk, ChatResponse, ChunkChoice, Usage
from switchboard.errors import SwitchboardError
from switchboard.providers.anthropic_stream import ERROR_STATUS

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
_ERROR_TYPES = {
    **{status: kind for kind, status in ERROR_STATUS.items()},
    502: "api_error",
    503: "overloaded_error",
}


def stop_reason(finish_reason: str | None) -> str:
    return STOP_REASONS.get(finish_reason or "stop", "end_turn")


def usage_json(usage: Usage | None) -> dict[str, int]:
    u = usage or Usage()
    return {
        "input_tokens": max(0, u.prompt_tokens - u.cached_tokens - u.cache_write_tokens),
        "output_tokens": u.completion_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cached_tokens,
    }


def tool_input(arguments: str | None) -> dict[str, Any]:
    """A tool call's JSON-string arguments as the `input` object Anthropic sends."""
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def thinking_block(thinking: str) -> dict[str, Any]:
    """An upstream's `reasoning_content`; it carries no Anthropic signature to verify."""
    return {"type": "thinking", "thinking": thinking, "signature": ""}


def message_id(upstream_id: str) -> str:
    return upstream_id if upstream_id.startswith("msg_") else f"msg_{upstream_id}"


def message_json(resp: ChatResponse) -> dict[str, Any]:
    choice = resp.choices[0] if resp.choices else None
    content: list[dict[str, Any]] = []
    extra = (choice.message_extra if choice is not None else None) or {}
    blocks = extra.get("thinking_blocks")
    if isinstance(blocks, list) and all(isinstance(b, dict) for b in blocks):
        content.extend(blocks)  # an Anthropic-shaped upstream's, signatures and all
    elif isinstance(extra.get("reasoning_content"), str) and extra["reasoning_content"]:
        content.append(thinking_block(extra["reasoning_content"]))
    if choice is not None and choice.content:
        content.append({"type": "text", "text": choice.content})
    refusal = extra.get("refusal")
    if isinstance(refusal, str) and refusal:  # OpenAI's refusal text: Anthropic's is the reason
        content.append({"type": "text", "text": refusal})
    for call in (choice.tool_calls if choice is not None else None) or ():
        fn = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": fn.get("name"),
                "input": tool_input(fn.get("arguments")),
            }
        )
    return {
        "id": message_id(resp.id),
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": "refusal"
        if refusal
        else stop_reason(choice.finish_reason if choice is not None else None),
        "stop_sequence": None,
        "usage": usage_json(resp.usage),
    }


def error_body(exc: SwitchboardError) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(
        exc.status, "invalid_request_error" if exc.status < 500 else "api_error"
    )
    return {"type": "error", "error": {"type": kind, "message": exc.message}}


def error_event(exc: SwitchboardError) -> bytes:
    return sse(error_body(exc), event="error")


def event(data: dict[str, Any]) -> bytes:
    return sse(data, event=data["type"])


class MessageEvents:
    """Chat chunks in, Anthropic stream events out. Blocks are opened as their first delta
    arrives and closed when the next begins (a tool call's fragments that arrive after the next
    block has begun cannot be placed, and are dropped; OpenAI streams tool calls in turn)."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._index = -1  # Anthropic's index of the open block
        self._open: tuple[str, int] | None = None  # ("text", block) or ("tool", call index)
        self._seen: set[tuple[str, int]] = set()
        self.finish_reason: str | None = None
        self.refused = False  # the upstream sent a refusal: the stop reason says so

    def start(self, chunk: ChatChunk | None, prompt_estimate: int) -> bytes:
        message: dict[str, Any] = {
            "id": message_id(chunk.id if chunk is not None else ""),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage_json(None), "input_tokens": prompt_estimate, "output_tokens": 0},
        }
        return event({"type": "message_start", "message": message})

    def feed(self, chunk: ChatChunk) -> list[bytes]:
        out: list[bytes] = []
        for choice in chunk.choices:
            if choice.index == 0:
                out.extend(self._choice(choice))
        return out

    def finish(self, usage: Usage | None) -> list[bytes]:
        out = self._close()
        reason = "refusal" if self.refused else stop_reason(self.finish_reason)
        delta = {"stop_reason": reason, "stop_sequence": None}
        out.append(event({"type": "message_delta", "delta": delta, "usage": usage_json(usage)}))
        out.append(event({"type": "message_stop"}))
        return out

    def _choice(self, choice: ChunkChoice) -> list[bytes]:
        out: list[bytes] = []
        thinking = (choice.delta_extra or {}).get("reasoning_content")
        if isinstance(thinking, str) and thinking:
            if self._open is None or self._open[0] != "thinking":
                out.extend(self._begin(("thinking", self._index + 1), thinking_block("")))
            out.append(self._delta({"type": "thinking_delta", "thinking": thinking}))
        blocks = (choice.delta_extra or {}).get("thinking_blocks")
        for block in blocks if isinstance(blocks, list) else ():
            if isinstance(block, dict):
                out.extend(self._thinking_block(block))
        refusal = (choice.delta_extra or {}).get("refusal")
        refusal = refusal if isinstance(refusal, str) else None
        self.refused = self.refused or bool(refusal)
        for text in (choice.content, refusal):
            if not text:
                continue
            if self._open is None or self._open[0] != "text":
                out.extend(self._begin(("text", self._index + 1), {"type": "text", "text": ""}))
            out.append(self._delta({"type": "text_delta", "text": text}))
        for call in choice.tool_calls or ():
            out.extend(self._tool_delta(call))
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        return out

    def _thinking_block(self, block: dict[str, Any]) -> list[bytes]:
        """A whole block from an Anthropic-shaped upstream, sent once signed: its signature
        ends the thinking streamed as text; one not streamed as text (redacted thinking)
        is a block of its own, whole at its start."""
        out: list[bytes] = []
        if block.get("type") == "thinking":
            if self._open is None or self._open[0] != "thinking":
                out.extend(self._begin(("thinking", self._index + 1), thinking_block("")))
                text = str(block.get("thinking") or "")
                out.append(self._delta({"type": "thinking_delta", "thinking": text}))
            if block.get("signature"):
                out.append(
                    self._delta({"type": "signature_delta", "signature": block["signature"]})
                )
            return out
        return self._begin(("block", self._index + 1), block)

    def _tool_delta(self, call: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        block = ("tool", int(call.get("index") or 0))
        fn = call.get("function") or {}
        if block not in self._seen:
            start: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id"),
                "name": fn.get("name"),
                "input": {},
            }
            out.extend(self._begin(block, start))
        if self._open == block and fn.get("arguments"):
            out.append(self._delta({"type": "input_json_delta", "partial_json": fn["arguments"]}))
        return out

    def _begin(self, block: tuple[str, int], content_block: dict[str, Any]) -> list[bytes]:
        if block in self._seen:
            return []  # closed already: see the class docstring
        out = self._close()
        self._seen.add(block)
        self._open = block
        self._index += 1
        start = {
            "type": "content_block_start",
            "index": self._index,
            "content_block": content_block,
        }
        out.append(event(start))
        return out

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return event({"type": "content_block_delta", "index": self._index, "delta": delta})

    def _close(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [event({"type": "content_block_stop", "index": self._index})]
