"""The Responses API passed through to deployments with `responses_api: native`.

Every Responses request carries the client's body (`ChatRequest.native`) beside its chat
translation; the call stage sends the body to a native deployment and the translation to any
other. Switchboard keeps the state itself, whichever kind serves: the upstream is sent
`store: false`, with a previous response's conversation expanded into `input` in place of
`previous_response_id`, so a continuation works on any deployment, after any failover, and
stays scoped to the key. Of the upstream's reply and events Switchboard owns `model` (the
public name), `store` and `previous_response_id` (the client's); the rest passes unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from switchboard.api.render import sse
from switchboard.api.responses_wire import ResponsesIn
from switchboard.domain import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkStream,
    Message,
    NativeBody,
)
from switchboard.errors import SwitchboardError, UnsupportedOperation
from switchboard.pipeline.context import RequestContext

Save = Callable[[dict[str, Any], ChatResponse], Awaitable[None]]
_ENDS = ("response.completed", "response.incomplete")


def input_items(value: object) -> list[dict[str, Any]]:
    """A request's `input` as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return [dict(item) for item in value] if isinstance(value, list) else []


def replayable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier turns as input to an upstream that stores nothing: item ids name nothing there
    (dropped), and a reasoning item can only be replayed with its `encrypted_content`."""
    out = []
    for item in items:
        if item.get("type") == "reasoning":
            if item.get("encrypted_content"):
                out.append(item)
            continue
        out.append({k: v for k, v in item.items() if k != "id"})
    return out


def native_body(raw: dict[str, Any], prior_items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The body a native deployment gets: the client's, stateless upstream."""
    body = {k: v for k, v in raw.items() if k != "previous_response_id"}
    if prior_items:
        body["input"] = [*replayable(prior_items), *input_items(raw.get("input"))]
    body["store"] = False
    return body


def chat_request(
    body: ResponsesIn,
    raw: dict[str, Any],
    history: list[Message],
    prior_items: list[dict[str, Any]] | None,
) -> ChatRequest:
    """The chat translation, carrying the native body; what the translation must leave out is
    refused by a translating deployment only (providers/capabilities.fit_request). A response
    stored before items were kept continues translated."""
    try:
        chat = body.to_domain(history)
        untranslated = None
    except UnsupportedOperation as exc:
        chat = body.to_domain(history, skip=True)
        untranslated = (exc.param or "input", exc.message)
        if prior_items is None:
            raise
    if prior_items is not None:
        chat.native = NativeBody("responses", native_body(raw, prior_items), untranslated)
    return chat


def owned(response: dict[str, Any], body: ResponsesIn, fallback_id: str) -> dict[str, Any]:
    """An upstream's response object with the fields Switchboard owns set."""
    return {
        **response,
        "id": response.get("id") or fallback_id,
        "model": body.model,
        "store": body.store,
        "previous_response_id": body.previous_response_id,
    }


def owned_event(event: dict[str, Any], body: ResponsesIn, fallback_id: str) -> dict[str, Any]:
    response = event.get("response")
    if not isinstance(response, dict):
        return event
    return {**event, "response": owned(response, body, fallback_id)}


def failed_events(exc: SwitchboardError, snapshot: dict[str, Any], seq: int) -> list[bytes]:
    """How a passed-through stream that breaks after its first byte ends."""
    error = {"code": exc.code or exc.type, "message": exc.message}
    failed = {**snapshot, "status": "failed", "error": error}
    return [
        sse(
            {"type": "error", "sequence_number": seq + 1, **error, "param": exc.param},
            event="error",
        ),
        sse(
            {"type": "response.failed", "sequence_number": seq + 2, "response": failed},
            event="response.failed",
        ),
    ]


async def native_events(
    ctx: RequestContext,
    body: ResponsesIn,
    fallback_id: str,
    first: ChatChunk,
    stream: ChunkStream,
    save: Save | None,
) -> AsyncIterator[bytes]:
    """The upstream's events as it sent them (owned fields aside); the response is stored
    before its `response.completed` is sent, so a client may continue it at once."""
    snapshot: dict[str, Any] = {}
    seq = -1
    try:
        chunk: ChatChunk | None = first
        while chunk is not None:
            if chunk.native is not None:
                event = owned_event(chunk.native, body, fallback_id)
                seq = event.get("sequence_number", seq + 1)
                kind = str(event.get("type") or "message")
                response = event.get("response")
                if isinstance(response, dict):
                    snapshot = response
                    if kind in _ENDS and save is not None and ctx.reply is not None:
                        await save(response, ctx.reply.to_response())
                yield sse(event, event=kind)
            chunk = await anext(stream, None)
    except SwitchboardError as exc:
        for data in failed_events(exc, snapshot, seq if isinstance(seq, int) else 0):
            yield data
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
