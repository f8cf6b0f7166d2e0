"""A stored reply: the whole response as the model gave it, and what a semantic match checks.

Kept as one orjson blob (the same bytes in process memory and in Redis), decoded on a hit only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from switchboard.domain import ChatResponse, Choice, Usage


@dataclass(slots=True)
class CachedReply:
    response: ChatResponse
    model: str  # the public model name it was stored for
    context: str  # the semantic context key (everything but the last user message)
    query: str | None  # the last user message, for the false-hit guard
    tier: str | None = None  # complexity routing's tier when it was made
    stored_at: float = 0.0  # wall clock

    def dumps(self) -> bytes:
        r = self.response
        return orjson.dumps(
            {
                "model": self.model,
                "context": self.context,
                "query": self.query,
                "tier": self.tier,
                "stored_at": self.stored_at or time.time(),
                "response": {
                    "id": r.id,
                    "created": r.created,
                    "model": r.model,
                    "extra": r.extra,
                    "usage": _usage_json(r.usage),
                    "choices": [_choice_json(c) for c in r.choices],
                },
            }
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> CachedReply:
        data = orjson.loads(raw)
        r = data["response"]
        response = ChatResponse(
            id=r["id"],
            created=r["created"],
            model=r["model"],
            choices=[Choice(**c) for c in r["choices"]],
            usage=Usage(**r["usage"]) if r["usage"] is not None else None,
            extra=r["extra"],
        )
        return cls(
            response, data["model"], data["context"], data["query"], data["tier"], data["stored_at"]
        )


def _usage_json(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "extra": usage.extra,
    }


def _choice_json(c: Choice) -> dict[str, Any]:
    return {
        "index": c.index,
        "content": c.content,
        "finish_reason": c.finish_reason,
        "tool_calls": c.tool_calls,
        "role": c.role,
        "message_extra": c.message_extra,
        "extra": c.extra,
    }
