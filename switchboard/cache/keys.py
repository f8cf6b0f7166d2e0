"""The canonical form of a chat request, and the keys the two layers file replies under.

Exact: a hash of the public model, every message and every parameter that may change the answer
(the wire-only ones, `stream` and `stream_options`, `user`, `metadata` ..., left out, so a
streamed and a plain request share entries). Semantic: the last user message's text is embedded,
and everything else (system prompt, earlier turns, parameters) is hashed into the context key,
so a reply is only ever found again for the same conversation so far.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import orjson

from switchboard.domain import ChatRequest, Message

# Fields that say how to deliver or label the reply, never what it says.
WIRE_ONLY = frozenset(
    {"stream_options", "user", "metadata", "store", "safety_identifier", "prompt_cache_key"}
)


def _message(m: Message) -> list[Any]:
    return [m.role, m.content, m.name, m.tool_calls, m.tool_call_id]


def _params(request: ChatRequest) -> dict[str, Any]:
    out = {k: v for k, v in request.params.items() if k not in WIRE_ONLY}
    out["max_tokens"] = request.max_tokens
    out["temperature"] = request.temperature
    out["top_p"] = request.top_p
    out["stop"] = request.stop
    return out


def _digest(value: Any) -> str:
    try:
        raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer beyond 64 bits, which orjson refuses: the stdlib has none
        raw = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.blake2b(raw, digest_size=20).hexdigest()


def last_user_index(messages: list[Message]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return i
    return None


@dataclass(frozen=True, slots=True)
class RequestKeys:
    """`exact`: the whole request; `context` and `query`: the semantic layer's two halves
    (`query` is None when the request has no plain-text last user message to embed)."""

    exact: str
    context: str
    query: str | None


def request_keys(model: str, request: ChatRequest) -> RequestKeys:
    params = _params(request)
    messages = [_message(m) for m in request.messages]
    exact = _digest(["v1", model, messages, params])
    last = last_user_index(request.messages)
    query = None
    if last is not None and last == len(request.messages) - 1:
        text = request.messages[last].text()
        if text.strip() and not _has_media(request.messages[last]):
            query = text
    rest = [*messages[:-1], [request.messages[-1].role]] if query is not None else messages
    context = _digest(["v1-ctx", model, rest, params])
    return RequestKeys(exact, context, query)


def _has_media(m: Message) -> bool:
    """Images or audio: the text alone does not say what was asked."""
    return isinstance(m.content, list) and any(p.get("type") != "text" for p in m.content)
