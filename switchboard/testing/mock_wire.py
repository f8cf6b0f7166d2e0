"""OpenAI's wire shapes as the mock provider renders them: completions, chunks, embeddings, errors.

Kept apart from the mock's behaviour (latency, faults, counters) so that each can be read alone;
field names and `object` values follow what OpenAI's API returns.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Callable
from typing import Any

try:
    import orjson

    dumps: Callable[[Any], bytes] = orjson.dumps
    loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency
    import json

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    loads = json.loads

_LOREM = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")
DONE_EVENT = b"data: [DONE]\n\n"


class BadInput(Exception):
    """A request the mock rejects with 400, as OpenAI would."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def error_body(status: int, message: str, param: str | None = None) -> bytes:
    """Render an error in OpenAI's envelope, with the type and code OpenAI uses for the status."""
    kind: str = "invalid_request_error"
    code: str | None = None
    if status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif status == 401:
        code = "invalid_api_key"
    elif status == 404:
        code = "unknown_url"
    elif status >= 500:
        kind = "server_error"
    return dumps({"error": {"message": message, "type": kind, "param": param, "code": code}})


def words(count: int) -> list[str]:
    """The completion's tokens: a deterministic lorem ipsum, one word a token."""
    return [_LOREM[i % len(_LOREM)] for i in range(count)]


def prompt_tokens(messages: list[Any]) -> int:
    """A deterministic stand-in for a tokenizer: about four characters a token."""
    chars = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else None
                chars += len(text) if isinstance(text, str) else 0
    return chars // 4 + 1


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def chat_completion(
    base: dict[str, Any], content: str, finish: str, use: dict[str, int], n: int = 1
) -> bytes:
    """A non-streaming `chat.completion` with `n` choices; `base` holds id, created and model."""
    message = {"role": "assistant", "content": content}
    choices = [
        {"index": i, "message": message, "logprobs": None, "finish_reason": finish}
        for i in range(n)
    ]
    return dumps({**base, "object": "chat.completion", "choices": choices, "usage": use})


def chunk_events(
    base: dict[str, Any], delta: dict[str, str], finish: str | None = None, n: int = 1
) -> bytes:
    """SSE events carrying one `chat.completion.chunk` per choice (as OpenAI sends them)."""
    out = b""
    for i in range(n):
        choice = {"index": i, "delta": delta, "logprobs": None, "finish_reason": finish}
        chunk = {**base, "object": "chat.completion.chunk", "choices": [choice]}
        out += b"data: " + dumps(chunk) + b"\n\n"
    return out


def chunk_event(base: dict[str, Any], delta: dict[str, str], finish: str | None = None) -> bytes:
    """One SSE event carrying a `chat.completion.chunk` with a single choice."""
    return chunk_events(base, delta, finish)


def usage_event(base: dict[str, Any], use: dict[str, int]) -> bytes:
    """The final chunk OpenAI sends when `stream_options.include_usage` is set."""
    chunk = {**base, "object": "chat.completion.chunk", "choices": [], "usage": use}
    return b"data: " + dumps(chunk) + b"\n\n"


def embedding_inputs(raw: Any) -> list[tuple[bytes, int]]:
    """Each input as (hash key, token count); accepts a string, strings, or token arrays."""
    if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise BadInput("'input' must be a non-empty string or array", "input")
    items = []
    for item in raw:
        if isinstance(item, str):
            items.append((item.encode(), len(item) // 4 + 1))
        elif isinstance(item, list) and all(isinstance(t, int) for t in item):
            items.append((dumps(item), len(item)))
        else:
            raise BadInput("'input' items must be strings or arrays of token ids", "input")
    return items


def embedding_vector(key: bytes, dim: int) -> bytes:
    """A unit vector derived from the input's hash, as little-endian float32."""
    raw = struct.unpack(f"<{dim}I", hashlib.shake_128(key).digest(4 * dim))
    values = [x / 2**31 - 1.0 for x in raw]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return struct.pack(f"<{dim}f", *(v / norm for v in values))


def embedding_list(items: list[tuple[bytes, int]], dim: int, as_base64: bool, model: str) -> bytes:
    """The `list` of `embedding` objects, as floats or as base64 of the float32 bytes."""
    data = []
    for index, (key, _) in enumerate(items):
        packed = embedding_vector(key, dim)
        vector: Any
        if as_base64:
            vector = base64.b64encode(packed).decode("ascii")
        else:
            vector = list(struct.unpack(f"<{dim}f", packed))
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(count for _, count in items)
    use = {"prompt_tokens": tokens, "total_tokens": tokens}
    return dumps({"object": "list", "data": data, "model": model, "usage": use})


def model_list(model: str) -> bytes:
    entry = {"id": model, "object": "model", "created": 0, "owned_by": "switchboard-mock"}
    return dumps({"object": "list", "data": [entry]})
