"""The simple chat API: `POST /v1/chat` (JSON) and `POST /v1/chat/stream` (SSE events)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.deps import caller_key, gateway_of, request_context
from switchboard.api.disconnect import unless_disconnected
from switchboard.api.openai_routes import first_chunk, json_response
from switchboard.api.render import error_json, sse
from switchboard.api.schemas import SimpleChatIn
from switchboard.api.streaming import EventStreamResponse
from switchboard.api.turns import attach_turn, turn_request, turn_summary
from switchboard.domain import ChatChunk, ChatResponse, ChunkStream, EmbeddingResponse
from switchboard.errors import SwitchboardError
from switchboard.pipeline.context import RequestContext

router = APIRouter()


async def _turn_context(request: Request, endpoint: str, *, stream: bool) -> RequestContext:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)
    body = await parse_body(request, SimpleChatIn, gateway.settings.max_body_bytes)
    chat = turn_request(
        message=body.message,
        model=body.model or gateway.default_model,
        system=body.system,
        temperature=body.temperature,
        max_tokens=body.max_tokens,
        stream=stream,
    )
    ctx = request_context(request, endpoint, chat, key)
    attach_turn(ctx, body.conversation_id)
    return ctx


@router.post("/v1/chat")
async def simple_chat(request: Request) -> Response:
    ctx = await _turn_context(request, "chat", stream=False)
    reply = await unless_disconnected(request.receive, gateway_of(request).pipeline(ctx))
    assert isinstance(reply, ChatResponse)
    choice = reply.choices[0] if reply.choices else None
    summary = turn_summary(ctx, reply.model, choice.finish_reason if choice else None)
    return json_response({**summary, "message": choice.content or "" if choice else ""})


async def simple_events(
    ctx: RequestContext, first: ChatChunk | None, stream: ChunkStream
) -> AsyncIterator[bytes]:
    """`token` events with the text, then `done` with usage, or `error`."""
    try:
        chunk = first
        while chunk is not None:
            for choice in chunk.choices:
                if choice.content:
                    yield sse({"content": choice.content}, event="token")
            chunk = await anext(stream, None)
        finish = ctx.reply.finish_reason() if ctx.reply is not None else None
        yield sse(turn_summary(ctx, ctx.model, finish), event="done")
    except SwitchboardError as exc:
        yield sse(error_json(exc), event="error")
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def _stream_and_first(
    request: Request, ctx: RequestContext
) -> tuple[ChunkStream, ChatChunk | None]:
    stream = await gateway_of(request).pipeline(ctx)
    assert not isinstance(stream, ChatResponse | EmbeddingResponse)
    return stream, await first_chunk(stream)


@router.post("/v1/chat/stream")
async def simple_chat_stream(request: Request) -> Response:
    ctx = await _turn_context(request, "chat.stream", stream=True)
    stream, first = await unless_disconnected(request.receive, _stream_and_first(request, ctx))
    return EventStreamResponse(simple_events(ctx, first, stream))
