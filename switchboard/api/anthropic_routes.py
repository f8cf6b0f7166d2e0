"""Anthropic Messages ingress: `POST /v1/messages` (JSON and SSE) and `count_tokens`, for every
catalogue model; the request runs the same pipeline as a chat completion.

Errors use Anthropic's envelope; the key may come as `x-api-key`, as the anthropic SDK sends it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.anthropic_render import MessageEvents, error_body, error_event, message_json
from switchboard.api.anthropic_wire import CountTokensIn, MessagesIn
from switchboard.api.body import parse_body
from switchboard.api.deps import caller_key, gateway_of, request_context
from switchboard.api.disconnect import unless_disconnected
from switchboard.api.openai_routes import json_response
from switchboard.api.replies import chat_reply
from switchboard.api.streaming import EventStreamResponse
from switchboard.domain import ChatChunk, ChunkStream
from switchboard.errors import PermissionDenied, SwitchboardError
from switchboard.pipeline.context import RequestContext
from switchboard.tokens import estimate_prompt_tokens

router = APIRouter()

_CHARS_PER_TOKEN = 4


def anthropic_errors(
    route: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Render the errors of `route` in Anthropic's envelope instead of OpenAI's."""

    async def wrapped(request: Request) -> Response:
        try:
            return await route(request)
        except SwitchboardError as exc:
            body = orjson.dumps(error_body(exc))
            return Response(body, exc.status, exc.headers, media_type="application/json")

    return wrapped


async def message_events(
    ctx: RequestContext, first: ChatChunk | None, stream: ChunkStream
) -> AsyncIterator[bytes]:
    """Anthropic's event sequence; an error after the first byte is an `error` event."""
    events = MessageEvents(ctx.model)
    try:
        yield events.start(first, estimate_prompt_tokens(ctx.request))
        chunk = first
        while chunk is not None:
            for data in events.feed(chunk):
                yield data
            chunk = await anext(stream, None)
        for data in events.finish(ctx.usage):  # the accountant's count, once the stream ended
            yield data
    except SwitchboardError as exc:
        yield error_event(exc)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


@anthropic_errors
async def messages(request: Request) -> Response:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)  # before the body: strangers cost no parsing
    body = await parse_body(request, MessagesIn, gateway.settings.max_body_bytes)
    chat = body.to_domain()
    ctx = request_context(request, "messages", chat, key)
    reply, stream, first = await unless_disconnected(request.receive, chat_reply(gateway, ctx))
    if reply is not None:
        return json_response(message_json(reply))
    assert stream is not None
    return EventStreamResponse(message_events(ctx, first, stream))


@anthropic_errors
async def count_tokens(request: Request) -> Response:
    """The gateway's own estimate (no upstream is asked), for a model the key may use."""
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)
    body = await parse_body(request, CountTokensIn, gateway.settings.max_body_bytes)
    chat = body.to_domain()
    if key is not None and not key.allows_model(chat.model):
        raise PermissionDenied(f"This API key may not use the model `{chat.model}`.", param="model")
    gateway.route.resolve(chat.model)  # an unknown model is a 404, as for a message
    tools = chat.params.get("tools")
    tool_tokens = len(orjson.dumps(tools)) // _CHARS_PER_TOKEN if tools else 0
    return json_response({"input_tokens": estimate_prompt_tokens(chat) + tool_tokens})


router.add_route("/v1/messages", messages, methods=["POST"])
router.add_route("/v1/messages/count_tokens", count_tokens, methods=["POST"])
