"""ConverseStream events (as aiobotocore parses them) translated into OpenAI-shaped chunks.

Each event is a one-key dict: `{"contentBlockDelta": {...}}`. Exception events never reach the
parser: aiobotocore raises them as `EventStreamError` while iterating, mapped in bedrock.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from switchboard.domain import ChatChunk, ChunkChoice, Usage
from switchboard.providers.bedrock_translate import finish_reason, parse_usage, thinking_block


class ConverseStreamParser:
    """One streamed Converse message: content blocks become content or tool-call deltas.

    Converse numbers content blocks across text and toolUse alike; OpenAI numbers tool calls
    on their own, so the parser keeps the block index -> tool-call index map.
    """

    def __init__(self, chunk_id: str, model: str) -> None:
        self._id = chunk_id
        self._model = model
        self._created = int(time.time())
        self._tool_index: dict[int, int] = {}
        self._thinking: dict[int, str] = {}  # reasoning text so far, by block index
        self._finished = False

    def feed(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        if "messageStart" in event:
            role = event["messageStart"].get("role") or "assistant"
            return [self._chunk([ChunkChoice(role=role, content="")])]
        if "contentBlockStart" in event:
            return self._block_start(event["contentBlockStart"])
        if "contentBlockDelta" in event:
            return self._block_delta(event["contentBlockDelta"])
        if "messageStop" in event:
            self._finished = True
            reason = finish_reason(event["messageStop"].get("stopReason")) or "stop"
            return [self._chunk([ChunkChoice(finish_reason=reason)])]
        if "metadata" in event:
            usage = parse_usage(event["metadata"].get("usage")) or Usage()
            return [self._chunk([], usage=usage)]
        return []  # contentBlockStop, and event types added after this was written

    def finished(self) -> bool:
        """True once messageStop was seen: a stream that ends before this was cut."""
        return self._finished

    def _chunk(self, choices: list[ChunkChoice], usage: Usage | None = None) -> ChatChunk:
        return ChatChunk(self._id, self._created, self._model, choices, usage)

    def _block_start(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        tool = (event.get("start") or {}).get("toolUse")
        if not tool:
            return []  # tool results and images of server-side tools have no OpenAI shape
        index = int(event.get("contentBlockIndex") or 0)
        position = self._tool_index[index] = len(self._tool_index)
        call = {
            "index": position,
            "id": tool.get("toolUseId"),
            "type": "function",
            "function": {"name": tool.get("name"), "arguments": ""},
        }
        return [self._chunk([ChunkChoice(tool_calls=[call])])]

    def _block_delta(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        delta = event.get("delta") or {}
        if delta.get("text"):
            return [self._chunk([ChunkChoice(content=delta["text"])])]
        index = int(event.get("contentBlockIndex") or 0)
        if "reasoningContent" in delta:
            return self._reasoning(index, delta["reasoningContent"])
        arguments = (delta.get("toolUse") or {}).get("input")
        if arguments and index in self._tool_index:
            call = {"index": self._tool_index[index], "function": {"arguments": arguments}}
            return [self._chunk([ChunkChoice(tool_calls=[call])])]
        return []  # citations are not part of the OpenAI shape

    def _reasoning(self, index: int, delta: Mapping[str, Any]) -> list[ChatChunk]:
        """Reasoning text as `reasoning_content` deltas; the block whole in `thinking_blocks`
        once it is signed (or at once, when redacted)."""
        if "redactedContent" in delta:
            block = thinking_block(delta)
            return [self._chunk([ChunkChoice(delta_extra={"thinking_blocks": [block]})])]
        text = delta.get("text") or ""
        if text:
            self._thinking[index] = self._thinking.get(index, "") + text
            return [self._chunk([ChunkChoice(delta_extra={"reasoning_content": text})])]
        if delta.get("signature"):
            signed = {"reasoningText": {"text": self._thinking.pop(index, ""), **delta}}
            block = thinking_block(signed)
            return [self._chunk([ChunkChoice(delta_extra={"thinking_blocks": [block]})])]
        return []
