"""The OpenAI-compatible routes: chat completions (JSON and SSE), embeddings, models."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.deps import gateway_of, new_context
from switchboard.api.render import (
    SSE_DONE,
    chat_response_json,
    chunk_json,
    embeddings_json,
    error_json,
    sse,
)
from switchboard.api.schemas import ChatCompletionIn, EmbeddingsIn
from switchboard.api.streaming import EventStreamResponse
from switchboard.domain import ChatChunk, ChatResponse, ChunkStream, EmbeddingResponse
from switchboard.errors import SwitchboardError

router = APIRouter()


def json_response(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def first_chunk(stream: ChunkStream) -> ChatChunk | None:
    """Pull the first chunk before any byte is sent, so early errors keep their HTTP status."""
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None
    except BaseException:
        await stream.aclose()  # type: ignore[attr-defined]
        raise


async def openai_sse(
    first: ChatChunk | None, stream: ChunkStream, include_usage: bool
) -> AsyncIterator[bytes]:
    """OpenAI's SSE framing; an error after the first byte ends the stream with an error event."""
    try:
        chunk = first
        while chunk is not None:
            if chunk.choices or include_usage:
                yield sse(chunk_json(chunk))
            chunk = await anext(stream, None)
        yield SSE_DONE
    except SwitchboardError as exc:
        yield sse(error_json(exc))
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def chat_completions(request: Request) -> Response:
    gateway = gateway_of(request)
    body = await parse_body(request, ChatCompletionIn, gateway.settings.max_body_bytes)
    chat = body.to_domain()
    ctx = new_context(request, "chat.completions", chat)
    reply = await gateway.pipeline(ctx)
    if isinstance(reply, ChatResponse):
        return json_response(chat_response_json(reply))
    assert not isinstance(reply, EmbeddingResponse)
    first = await first_chunk(reply)
    return EventStreamResponse(openai_sse(first, reply, chat.include_usage))


async def embeddings(request: Request) -> Response:
    gateway = gateway_of(request)
    body = await parse_body(request, EmbeddingsIn, gateway.settings.max_body_bytes)
    embed = body.to_domain()
    ctx = new_context(request, "embeddings", embed)
    reply = await gateway.pipeline(ctx)
    assert isinstance(reply, EmbeddingResponse)
    return json_response(embeddings_json(reply, embed.encoding_format))


@router.get("/v1/models")
async def list_models(request: Request) -> Response:
    gateway = gateway_of(request)
    data = [
        {"id": m.name, "object": "model", "created": 0, "owned_by": "switchboard"}
        for m in gateway.catalogue.models
    ]
    return json_response({"object": "list", "data": data})


@router.get("/v1/models/{model_id:path}")
async def get_model(request: Request, model_id: str) -> Response:
    gateway = gateway_of(request)
    model = gateway.route.resolve(model_id)
    return json_response(
        {"id": model.name, "object": "model", "created": 0, "owned_by": "switchboard"}
    )


# The two hot routes are plain Starlette routes: they read and validate their own bodies, so
# FastAPI's per-request dependency solving would be pure overhead (measured in bench/overhead).
router.add_route("/v1/chat/completions", chat_completions, methods=["POST"])
router.add_route("/v1/embeddings", embeddings, methods=["POST"])
