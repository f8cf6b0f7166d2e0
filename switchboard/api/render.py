"""Domain objects -> OpenAI wire format (JSON bodies and SSE lines)."""

from __future__ import annotations

import base64
import struct
from typing import Any

import orjson

from switchboard.domain import ChatChunk, ChatResponse, Choice, EmbeddingResponse, Usage
from switchboard.errors import SwitchboardError

SSE_DONE = b"data: [DONE]\n\n"


def usage_json(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    extra = usage.extra
    if extra:
        out.update(extra)
    else:  # a translated provider's counts, in OpenAI's shape
        if usage.cached_tokens or usage.cache_write_tokens:
            out["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
            # cache writes have no OpenAI field: Anthropic's names, as LiteLLM spells them
            out["cache_read_input_tokens"] = usage.cached_tokens
            out["cache_creation_input_tokens"] = usage.cache_write_tokens
        if usage.reasoning_tokens:
            out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


def message_json(c: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": c.role, "content": c.content}
    if c.tool_calls is not None:
        message["tool_calls"] = c.tool_calls
    if c.message_extra:
        message.update(c.message_extra)
    return message


def chat_response_json(resp: ChatResponse) -> dict[str, Any]:
    choices = []
    for c in resp.choices:
        choice = {
            "index": c.index,
            "message": message_json(c),
            "logprobs": None,
            "finish_reason": c.finish_reason,
        }
        if c.extra:
            choice.update(c.extra)
        choices.append(choice)
    out: dict[str, Any] = {
        "id": resp.id,
        "object": "chat.completion",
        "created": resp.created,
        "model": resp.model,
        "choices": choices,
        "usage": usage_json(resp.usage) if resp.usage else None,
    }
    if resp.extra:
        out.update(resp.extra)
    return out


def chunk_json(chunk: ChatChunk) -> dict[str, Any]:
    choices = []
    for c in chunk.choices:
        delta: dict[str, Any] = {}
        if c.role is not None:
            delta["role"] = c.role
        if c.content is not None:
            delta["content"] = c.content
        if c.tool_calls is not None:
            delta["tool_calls"] = c.tool_calls
        if c.delta_extra:
            delta.update(c.delta_extra)
        choice = {
            "index": c.index,
            "delta": delta,
            "logprobs": None,
            "finish_reason": c.finish_reason,
        }
        if c.extra:
            choice.update(c.extra)
        choices.append(choice)
    out: dict[str, Any] = {
        "id": chunk.id,
        "object": "chat.completion.chunk",
        "created": chunk.created,
        "model": chunk.model,
        "choices": choices,
    }
    if chunk.usage is not None:
        out["usage"] = usage_json(chunk.usage)
    if chunk.extra:
        out.update(chunk.extra)
    return out


def completion_json(resp: ChatResponse, echo: str = "") -> dict[str, Any]:
    """A chat reply as a legacy text completion (`/v1/completions` is translated to chat)."""
    choices = [
        {
            "index": c.index,
            "text": echo + (c.content or ""),
            "logprobs": None,
            "finish_reason": c.finish_reason,
        }
        for c in resp.choices
    ]
    out: dict[str, Any] = {
        "id": resp.id,
        "object": "text_completion",
        "created": resp.created,
        "model": resp.model,
        "choices": choices,
        "usage": usage_json(resp.usage) if resp.usage else None,
    }
    if resp.extra and "system_fingerprint" in resp.extra:
        out["system_fingerprint"] = resp.extra["system_fingerprint"]
    return out


def completion_chunk_json(chunk: ChatChunk) -> dict[str, Any] | None:
    """A chat chunk as a legacy completion chunk; None for one with nothing to say (a role)."""
    choices = [
        {
            "index": c.index,
            "text": c.content or "",
            "logprobs": None,
            "finish_reason": c.finish_reason,
        }
        for c in chunk.choices
        if c.content or c.finish_reason
    ]
    if not choices and (chunk.choices or chunk.usage is None):
        return None
    out: dict[str, Any] = {
        "id": chunk.id,
        "object": "text_completion",
        "created": chunk.created,
        "model": chunk.model,
        "choices": choices,
    }
    if chunk.extra and "system_fingerprint" in chunk.extra:
        out["system_fingerprint"] = chunk.extra["system_fingerprint"]
    if chunk.usage is not None:
        out["usage"] = usage_json(chunk.usage)
    return out


def sse(data: dict[str, Any], event: str | None = None) -> bytes:
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


def error_json(exc: SwitchboardError) -> dict[str, Any]:
    return {
        "error": {"message": exc.message, "type": exc.type, "param": exc.param, "code": exc.code}
    }


def embeddings_json(resp: EmbeddingResponse, encoding_format: str) -> dict[str, Any]:
    data = []
    for i, vector in enumerate(resp.vectors):
        value: Any = vector
        if encoding_format == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": resp.model,
        "usage": {
            "prompt_tokens": resp.usage.prompt_tokens,
            "total_tokens": resp.usage.prompt_tokens,
        },
    }
