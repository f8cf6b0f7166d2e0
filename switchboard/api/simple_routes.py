"""The simple chat API: `POST /v1/chat` (JSON) and `POST /v1/chat/stream` (SSE events)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.deps import gateway_of, new_context
from switchboard.api.openai_routes import first_chunk, json_response
from switchboard.api.render import error_json, sse, usage_json
from switchboard.api.schemas import SimpleChatIn
from switchboard.api.streaming import EventStreamResponse
from switchboard.conversation import Turn, finish_turn, start_turn
from switchboard.domain import ChatChunk, ChatResponse, ChunkStream, Usage
from switchboard.errors import SwitchboardError
from switchboard.gateway import Gateway
from switchboard.pipeline.context import RequestContext

router = APIRouter()


async def _turn(gateway: Gateway, body: SimpleChatIn, *, stream: bool) -> Turn:
    return await start_turn(
        gateway.conversations,
        message=body.message,
        model=body.model or gateway.default_model,
        conversation_id=body.conversation_id,
        temperature=body.temperature,
        max_tokens=body.max_tokens,
        stream=stream,
        system=body.system,
    )


@router.post("/v1/chat")
async def simple_chat(request: Request) -> Response:
    gateway = gateway_of(request)
    body = await parse_body(request, SimpleChatIn, gateway.settings.max_body_bytes)
    turn = await _turn(gateway, body, stream=False)
    ctx = new_context(request, "chat", turn.request)
    reply = await gateway.pipeline(ctx)
    assert isinstance(reply, ChatResponse)
    text = reply.choices[0].content or "" if reply.choices else ""
    await finish_turn(gateway.conversations, turn, text)
    return json_response(
        {
            "request_id": ctx.request_id,
            "conversation_id": turn.conversation_id,
            "message": text,
            "model": reply.model,
            "finish_reason": reply.choices[0].finish_reason if reply.choices else None,
            "usage": usage_json(reply.usage or Usage()),
            "latency_ms": round((time.perf_counter() - ctx.started) * 1000.0, 3),
        }
    )


async def simple_events(
    gateway: Gateway, ctx: RequestContext, turn: Turn, first: ChatChunk | None, stream: ChunkStream
) -> AsyncIterator[bytes]:
    """`token` events with the text, then `done` with usage, or `error`."""
    parts: list[str] = []
    usage = Usage()
    finish = None
    try:
        chunk = first
        while chunk is not None:
            for choice in chunk.choices:
                if choice.content:
                    parts.append(choice.content)
                    yield sse({"content": choice.content}, event="token")
                finish = choice.finish_reason or finish
            usage = chunk.usage or usage
            chunk = await anext(stream, None)
        await finish_turn(gateway.conversations, turn, "".join(parts))
        done = {
            "request_id": ctx.request_id,
            "conversation_id": turn.conversation_id,
            "model": turn.request.model,
            "finish_reason": finish,
            "usage": usage_json(usage),
            "latency_ms": round((time.perf_counter() - ctx.started) * 1000.0, 3),
        }
        yield sse(done, event="done")
    except SwitchboardError as exc:
        yield sse(error_json(exc), event="error")
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


@router.post("/v1/chat/stream")
async def simple_chat_stream(request: Request) -> Response:
    gateway = gateway_of(request)
    body = await parse_body(request, SimpleChatIn, gateway.settings.max_body_bytes)
    turn = await _turn(gateway, body, stream=True)
    ctx = new_context(request, "chat.stream", turn.request)
    reply = await gateway.pipeline(ctx)
    assert not isinstance(reply, ChatResponse)
    first = await first_chunk(reply)  # type: ignore[arg-type]
    return EventStreamResponse(simple_events(gateway, ctx, turn, first, reply))  # type: ignore[arg-type]
