"""The OpenAI-compatible routes: chat completions (JSON and SSE), embeddings, models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.deps import caller_key, gateway_of, request_context
from switchboard.api.disconnect import unless_disconnected
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
from switchboard.domain import ChatChunk, ChatResponse, ChunkStream, EmbeddingResponse, Reply
from switchboard.errors import ModelNotFound, SwitchboardError
from switchboard.gateway import Gateway
from switchboard.pipeline.context import RequestContext

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


ChunkRenderer = Callable[[ChatChunk], dict[str, Any] | None]


async def openai_sse(
    first: ChatChunk | None,
    stream: ChunkStream,
    include_usage: bool,
    render: ChunkRenderer = chunk_json,
) -> AsyncIterator[bytes]:
    """OpenAI's SSE framing; an error after the first byte ends the stream with an error event.

    A usage chunk the client did not ask for is not sent; when it did, every chunk carries
    `usage` (null until the last), as OpenAI's do.
    """
    try:
        chunk = first
        while chunk is not None:
            if include_usage or chunk.choices or (chunk.usage is None and chunk.extra):
                data = render(chunk)
                if data is not None:
                    if include_usage:
                        data.setdefault("usage", None)
                    yield sse(data)
            chunk = await anext(stream, None)
        yield SSE_DONE
    except SwitchboardError as exc:
        yield sse(error_json(exc))
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def reply_and_first_chunk(
    gateway: Gateway, ctx: RequestContext
) -> tuple[Reply, ChatChunk | None]:
    """Run the pipeline and, for a stream, pull its first chunk, in one step that a client
    disconnect can cancel."""
    reply = await gateway.pipeline(ctx)
    if isinstance(reply, ChatResponse | EmbeddingResponse):
        return reply, None
    return reply, await first_chunk(reply)


async def chat_completions(request: Request) -> Response:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)  # before the body: strangers cost no parsing
    body = await parse_body(request, ChatCompletionIn, gateway.settings.max_body_bytes)
    chat = body.to_domain()
    ctx = request_context(request, "chat.completions", chat, key)
    reply, first = await unless_disconnected(request.receive, reply_and_first_chunk(gateway, ctx))
    if isinstance(reply, ChatResponse):
        return json_response(chat_response_json(reply))
    assert not isinstance(reply, EmbeddingResponse)
    return EventStreamResponse(openai_sse(first, reply, chat.include_usage))


async def embeddings(request: Request) -> Response:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)
    body = await parse_body(request, EmbeddingsIn, gateway.settings.max_body_bytes)
    embed = body.to_domain()
    ctx = request_context(request, "embeddings", embed, key)
    reply = await unless_disconnected(request.receive, gateway.pipeline(ctx))
    assert isinstance(reply, EmbeddingResponse)
    return json_response(embeddings_json(reply, embed.encoding_format))


def _model_json(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "switchboard"}


@router.get("/v1/models")
@router.get("/models")
async def list_models(request: Request) -> Response:
    """The catalogue; with API keys on, only the models the calling key may use."""
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)
    names = [m.name for m in gateway.catalogue.models]
    data = [_model_json(n) for n in names if key is None or key.allows_model(n)]
    return json_response({"object": "list", "data": data})


@router.get("/v1/models/{model_id:path}")
@router.get("/models/{model_id:path}")
async def get_model(request: Request, model_id: str) -> Response:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)
    if key is not None and not key.allows_model(model_id):  # to this key it does not exist
        raise ModelNotFound(
            f"The model `{model_id}` does not exist or you do not have access to it.",
            param="model",
        )
    model = gateway.route.resolve(model_id)
    return json_response(_model_json(model.name))


# The two hot routes are plain Starlette routes: they read and validate their own bodies, so
# FastAPI's per-request dependency solving would be pure overhead (measured in bench/overhead).
# The unprefixed aliases serve clients whose base URL lacks `/v1`.
for prefix in ("/v1", ""):
    router.add_route(f"{prefix}/chat/completions", chat_completions, methods=["POST"])
    router.add_route(f"{prefix}/embeddings", embeddings, methods=["POST"])
