"""Anthropic's streamed Messages events translated into OpenAI-shaped chunks.

Also holds the wire facts the JSON and the streamed paths share: usage, stop reasons and the
error types Anthropic names in its error bodies.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from switchboard.domain import ChatChunk, ChunkChoice, Usage
from switchboard.providers.base import SseEvent
from switchboard.providers.reasoning import reasoning_extra
from switchboard.providers.transport import ErrorMapper

FINISH_REASONS: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# The HTTP status Anthropic documents for each error type; an error event inside a stream
# carries only the type, so it is mapped as if the request had failed with this status.
ERROR_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def finish_reason(stop_reason: str | None) -> str | None:
    if stop_reason is None:
        return None
    return FINISH_REASONS.get(stop_reason, "stop")


def parse_usage(data: Mapping[str, Any] | None) -> Usage | None:
    """Anthropic's usage as a Usage whose prompt_tokens include the cached prompt tokens.

    Anthropic's `input_tokens` counts only the uncached part of the prompt, while OpenAI's
    `prompt_tokens` counts all of it; we add the cache reads and writes so that counts compare
    across providers, and keep them apart in `cached_tokens` / `cache_write_tokens` for costing.
    """
    if not data:
        return None
    read = int(data.get("cache_read_input_tokens") or 0)
    written = int(data.get("cache_creation_input_tokens") or 0)
    return Usage(
        prompt_tokens=int(data.get("input_tokens") or 0) + read + written,
        completion_tokens=int(data.get("output_tokens") or 0),
        cached_tokens=read,
        cache_write_tokens=written,
    )


class AnthropicStreamParser:
    """One streamed Message: content blocks become content or tool-call deltas.

    Anthropic numbers content blocks across text and tool_use alike; OpenAI numbers tool calls
    on their own, so the parser keeps the block index -> tool-call index map.
    """

    def __init__(self, model: str, error: ErrorMapper) -> None:
        self._model = model
        self._error = error
        self._id = ""
        self._created = int(time.time())
        self._usage: dict[str, int] = {}
        self._tool_index: dict[int, int] = {}
        self._thinking: dict[int, dict[str, Any]] = {}  # open thinking blocks, by block index
        self._done = False
        self._finished = False

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        data = orjson.loads(event.data)
        match data.get("type") or event.event:
            case "message_start":
                return self._message_start(data.get("message") or {})
            case "content_block_start":
                return self._block_start(data.get("index", 0), data.get("content_block") or {})
            case "content_block_delta":
                return self._block_delta(data.get("index", 0), data.get("delta") or {})
            case "message_delta":
                return self._message_delta(data)
            case "message_stop":
                self._done = True
                return [self._chunk([], usage=parse_usage(self._usage) or Usage())]
            case "error":
                err = data.get("error") or {}
                status = ERROR_STATUS.get(str(err.get("type")), 500)
                raise self._error(status, event.data.encode(), {})
            case _:  # ping, content_block_stop, and event types added after this was written
                return []

    def done(self) -> bool:
        return self._done

    def finished(self) -> bool:
        return self._finished

    def _chunk(self, choices: list[ChunkChoice], usage: Usage | None = None) -> ChatChunk:
        return ChatChunk(self._id, self._created, self._model, choices, usage)

    def _add_usage(self, usage: Mapping[str, Any] | None) -> None:
        """Counts in later events are running totals, so each one replaces the earlier value."""
        for key in _USAGE_FIELDS:
            value = (usage or {}).get(key)
            if isinstance(value, int):
                self._usage[key] = value

    def _message_start(self, message: Mapping[str, Any]) -> list[ChatChunk]:
        self._id = str(message.get("id") or "")
        self._add_usage(message.get("usage"))
        return [self._chunk([ChunkChoice(role="assistant", content="")])]

    def _block_start(self, index: int, block: Mapping[str, Any]) -> list[ChatChunk]:
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk([ChunkChoice(content=block["text"])])]
        if block.get("type") == "thinking":
            self._thinking[index] = dict(block)
            return self._reasoning(block.get("thinking") or "")
        if block.get("type") == "redacted_thinking":  # encrypted: only its block is passed on
            return [self._chunk([ChunkChoice(delta_extra=reasoning_extra([], [dict(block)]))])]
        if block.get("type") != "tool_use":
            return []  # server-side tool blocks are not part of the OpenAI shape
        position = self._tool_index[index] = len(self._tool_index)
        call = {
            "index": position,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return [self._chunk([ChunkChoice(tool_calls=[call])])]

    def _block_delta(self, index: int, delta: Mapping[str, Any]) -> list[ChatChunk]:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk([ChunkChoice(content=delta["text"])])]
        if kind == "thinking_delta" and index in self._thinking:
            text = delta.get("thinking") or ""
            self._thinking[index]["thinking"] = self._thinking[index].get("thinking", "") + text
            return self._reasoning(text)
        if kind == "signature_delta" and index in self._thinking:
            # the block is whole once signed: sent then, for a client to hand back next turn
            block = {**self._thinking.pop(index), "signature": delta.get("signature") or ""}
            return [self._chunk([ChunkChoice(delta_extra={"thinking_blocks": [block]})])]
        if kind == "input_json_delta" and delta.get("partial_json") and index in self._tool_index:
            call = {
                "index": self._tool_index[index],
                "function": {"arguments": delta["partial_json"]},
            }
            return [self._chunk([ChunkChoice(tool_calls=[call])])]
        return []

    def _reasoning(self, text: str) -> list[ChatChunk]:
        if not text:
            return []
        return [self._chunk([ChunkChoice(delta_extra={"reasoning_content": text})])]

    def _message_delta(self, data: Mapping[str, Any]) -> list[ChatChunk]:
        self._add_usage(data.get("usage"))
        reason = finish_reason((data.get("delta") or {}).get("stop_reason"))
        if reason is None:
            return []
        self._finished = True
        return [self._chunk([ChunkChoice(finish_reason=reason)])]
