"""The OpenAI Responses API over any catalogue model: `POST /v1/responses` (JSON and SSE),
translated to a chat completion that runs the same pipeline, or passed through whole to a
deployment with `responses_api: native` (api/responses_native.py); `GET`/`DELETE
/v1/responses/{id}` and `previous_response_id` for stored responses, scoped to the key.

The response store is built with the app (the router's lifespan, after the Gateway's):
in-process, or Redis on the store backbone when a Redis URL is set. Stored responses follow the
conversation store's limits (`conversation_max_count`, `conversation_ttl_s`); in-process, also
at most MEMORY_STORE_MAX_BYTES.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from switchboard.api.body import parse_body_and_raw
from switchboard.api.deps import caller_key, gateway_of, request_context
from switchboard.api.disconnect import unless_disconnected
from switchboard.api.openai_routes import json_response
from switchboard.api.replies import chat_reply
from switchboard.api.responses_native import chat_request, input_items, native_events, owned
from switchboard.api.responses_render import ResponseEvents, new_id, reply_json
from switchboard.api.responses_wire import ResponsesIn
from switchboard.api.streaming import EventStreamResponse
from switchboard.domain import ChatChunk, ChatResponse, ChunkStream, Message
from switchboard.errors import NotFoundError, SwitchboardError
from switchboard.pipeline.context import ANONYMOUS, RequestContext
from switchboard.stores.responses import InMemoryResponseStore, ResponseStore, StoredResponse

if TYPE_CHECKING:
    from switchboard.gateway import Gateway
    from switchboard.keys.models import ApiKey

MEMORY_STORE_MAX_BYTES = 256 * 1024 * 1024
"""Serialised responses kept by the in-process store, all owners together."""

Save = Callable[[dict[str, Any], ChatResponse], Awaitable[None]]


def response_store(gateway: Gateway) -> ResponseStore:
    settings = gateway.settings
    if gateway.backbone is None:
        return InMemoryResponseStore(settings.conversation_max_count, MEMORY_STORE_MAX_BYTES)
    from switchboard.stores.redis_responses import GuardedResponseStore

    return GuardedResponseStore.on(gateway.backbone, settings.conversation_ttl_s)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    store = app.state.responses = response_store(app.state.gateway)
    try:
        yield
    finally:
        await store.aclose()


router = APIRouter(lifespan=lifespan)


def store_of(conn: HTTPConnection) -> ResponseStore:
    store: ResponseStore = conn.app.state.responses
    return store


def owner_of(key: ApiKey | None) -> str:
    """`RequestContext.owner` for a route that makes no model call (tests hold them equal)."""
    return ANONYMOUS if key is None else f"tenant:{key.tenant}/key:{key.id}"


def assistant_turn(reply: ChatResponse) -> list[Message]:
    choice = reply.choices[0] if reply.choices else None
    if choice is None or not (choice.content or choice.tool_calls):
        return []
    return [Message("assistant", choice.content, tool_calls=choice.tool_calls)]


async def response_events(
    ctx: RequestContext,
    events: ResponseEvents,
    first: ChatChunk | None,
    stream: ChunkStream,
    save: Save | None,
) -> AsyncIterator[bytes]:
    """The typed events; the response is stored before `response.completed` is sent, so a
    client may continue it at once. An error after the first byte ends with response.failed."""
    try:
        for data in events.start():
            yield data
        chunk = first
        while chunk is not None:
            for data in events.feed(chunk):
                yield data
            chunk = await anext(stream, None)
        final, closing = events.finish(ctx.usage)  # the accountant's usage, once it ended
        if save is not None and ctx.reply is not None:
            await save(final, ctx.reply.to_response())
        for data in closing:
            yield data
    except SwitchboardError as exc:
        for data in events.failed(exc):
            yield data
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def previous(store: ResponseStore, owner: str, body: ResponsesIn) -> StoredResponse | None:
    if body.previous_response_id is None:
        return None
    prior = await store.get(owner, body.previous_response_id)
    if prior is None:
        raise NotFoundError(
            f"Previous response with id '{body.previous_response_id}' not found.",
            param="previous_response_id",
        )
    return prior


async def create_response(request: Request) -> Response:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)  # before the body: strangers cost no parsing
    body, raw = await parse_body_and_raw(request, ResponsesIn, gateway.settings.max_body_bytes)
    store = store_of(request)
    prior = await previous(store, owner_of(key), body)
    history: list[Message] = prior.history if prior is not None else []
    prior_items = prior.items if prior is not None else []
    ctx = request_context(request, "responses", chat_request(body, raw, history, prior_items), key)
    conversation = [*history, *body.input_messages(skip=True)]

    async def save(response: dict[str, Any], reply: ChatResponse) -> None:
        turn = [*conversation, *assistant_turn(reply)]
        items = None
        if prior_items is not None:
            items = [*prior_items, *input_items(raw.get("input")), *response.get("output", [])]
        await store.put(ctx.owner, StoredResponse(response, turn, items))

    reply, stream, first = await unless_disconnected(request.receive, chat_reply(gateway, ctx))
    shape = body.echo(new_id("resp"), body.model)
    if reply is not None:
        if reply.native is not None:
            response = owned(reply.native, body, shape["id"])
        else:
            response = reply_json(shape, reply)
        if body.store:
            await save(response, reply)
        return json_response(response)
    assert stream is not None
    if first is not None and first.native is not None:
        saving = save if body.store else None
        return EventStreamResponse(native_events(ctx, body, shape["id"], first, stream, saving))
    events = ResponseEvents(shape)
    return EventStreamResponse(
        response_events(ctx, events, first, stream, save if body.store else None)
    )


@router.get("/v1/responses/{response_id}")
async def get_response(request: Request, response_id: str) -> Response:
    """A stored response of the calling key (another key's is not found)."""
    key = await caller_key(request, gateway_of(request))
    found = await store_of(request).get(owner_of(key), response_id)
    if found is None:
        raise NotFoundError(f"Response with id '{response_id}' not found.", param="response_id")
    return json_response(found.response)


@router.delete("/v1/responses/{response_id}")
async def delete_response(request: Request, response_id: str) -> Response:
    key = await caller_key(request, gateway_of(request))
    if not await store_of(request).delete(owner_of(key), response_id):
        raise NotFoundError(f"Response with id '{response_id}' not found.", param="response_id")
    return json_response({"id": response_id, "object": "response", "deleted": True})


router.add_route("/v1/responses", create_response, methods=["POST"])
