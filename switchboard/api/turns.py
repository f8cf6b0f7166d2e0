"""A turn of a stored conversation, as the simple API and the WebSocket chat start and end it.

The request carries only the new message (and a system prompt); the memory stage adds the
owner's history after auth and stores the exchange when the reply is complete.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from switchboard.api.render import usage_json
from switchboard.domain import ChatRequest, Message, Usage
from switchboard.pipeline.context import ConversationTurn, RequestContext


def turn_request(
    *,
    message: str,
    model: str,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
    stream: bool,
) -> ChatRequest:
    messages = [Message("system", system)] if system else []
    return ChatRequest(
        model=model,
        messages=[*messages, Message("user", message)],
        stream=stream,
        include_usage=stream,
        max_tokens=max_tokens,
        temperature=temperature,
    )


def attach_turn(ctx: RequestContext, conversation_id: str | None) -> ConversationTurn:
    """Mark the context as a turn of `conversation_id` (a new conversation when None)."""
    ctx.conversation = ConversationTurn(conversation_id or uuid.uuid4().hex)
    return ctx.conversation


def turn_summary(ctx: RequestContext, model: str, finish_reason: str | None) -> dict[str, Any]:
    """What the simple API's reply and `done` events say about a finished turn."""
    return {
        "request_id": ctx.request_id,
        "conversation_id": ctx.conversation.conversation_id if ctx.conversation else None,
        "model": model,
        "finish_reason": finish_reason,
        "usage": usage_json(ctx.usage or Usage()),
        "latency_ms": round((time.perf_counter() - ctx.started) * 1000.0, 3),
    }
