"""A stored reply served again: as the JSON reply, or as SSE chunks shaped like a live stream.

A streamed hit gets a role chunk, the reasoning and the text in pieces, each tool call (name,
then arguments), the finish, and a usage chunk (the api sends it only when the client asked),
so a client cannot tell a replay from a fast model, and nothing the original carried is lost
(reasoning_content, refusal, tool_calls, logprobs). Each replay has an id of its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

from switchboard.domain import ChatChunk, ChatResponse, Choice, ChunkChoice

PIECE_CHARS = 24  # text per replayed chunk: a few tokens, like a fast live stream
_WORDS = re.compile(r"\S+\s*|\s+")


def fresh_response(stored: ChatResponse, request_id: str) -> ChatResponse:
    """The stored reply under a new id and creation time."""
    return replace(stored, id=f"chatcmpl-{request_id[:29]}", created=int(time.time()))


def pieces(text: str) -> Iterator[str]:
    """The text in pieces of about PIECE_CHARS, cut between words."""
    piece = ""
    for word in _WORDS.findall(text):
        piece += word
        if len(piece) >= PIECE_CHARS:
            yield piece
            piece = ""
    if piece:
        yield piece


def _choice_chunks(c: Choice) -> Iterator[ChunkChoice]:
    extra = dict(c.message_extra or {})
    reasoning = extra.pop("reasoning_content", None)
    yield ChunkChoice(index=c.index, role=c.role, content="")
    if isinstance(reasoning, str) and reasoning:
        for part in pieces(reasoning):
            yield ChunkChoice(index=c.index, delta_extra={"reasoning_content": part})
    logprobs = (c.extra or {}).get("logprobs")
    if c.content:
        if logprobs is not None:  # one chunk, so the tokens' logprobs stay with their text
            yield ChunkChoice(index=c.index, content=c.content, extra={"logprobs": logprobs})
        else:
            for part in pieces(c.content):
                yield ChunkChoice(index=c.index, content=part)
    for i, call in enumerate(c.tool_calls or []):
        fn = call.get("function") or {}
        head: dict[str, Any] = {"index": i, "type": call.get("type", "function")}
        if "id" in call:
            head["id"] = call["id"]
        head["function"] = {"name": fn.get("name", ""), "arguments": ""}
        yield ChunkChoice(index=c.index, tool_calls=[head])
        if fn.get("arguments"):
            tail = {"index": i, "function": {"arguments": fn["arguments"]}}
            yield ChunkChoice(index=c.index, tool_calls=[tail])
    if extra:  # refusal, annotations, audio, function_call: whole, in one delta
        yield ChunkChoice(index=c.index, delta_extra=extra)
    rest = {k: v for k, v in (c.extra or {}).items() if k != "logprobs"} or None
    yield ChunkChoice(index=c.index, finish_reason=c.finish_reason, extra=rest)


async def replay_stream(reply: ChatResponse) -> AsyncIterator[ChatChunk]:
    """The reply as a stream; the last chunk carries the usage and no choices."""
    for c in reply.choices:
        for choice in _choice_chunks(c):
            yield ChatChunk(reply.id, reply.created, reply.model, [choice], extra=reply.extra)
    if reply.usage is not None:
        yield ChatChunk(reply.id, reply.created, reply.model, [], usage=reply.usage)
