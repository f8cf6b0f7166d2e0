"""WebSocket chat at `/ws/chat/{client_id}`.

Client -> server: `{"id", "message", "conversation_id"?, "model"?, "max_tokens"?, "temperature"?}`
or `{"type": "cancel", "id"?}`. Server -> client: `ack`, then `token`... and `done` (with usage),
or `error`. Messages are answered in the order they arrive: one sent while a reply streams is
acknowledged and queued (up to `ws_max_queued` per connection; beyond that it is refused with
an `error` whose code is `queue_full`). `cancel` stops the reply in flight (or drops a queued
one by id) and is answered with an `error` whose code is `cancelled`. Each message is its own
request (own id, clock, limits and accounting); the key is checked at the handshake and for
every message. A disconnect cancels the upstream call and frees everything the reply held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.api.body import load_json_object
from switchboard.api.deps import caller_key, gateway_of
from switchboard.api.errors import invalid_from_validation
from switchboard.api.render import error_json
from switchboard.api.turns import attach_turn, turn_request, turn_summary
from switchboard.domain import ChatResponse, EmbeddingResponse
from switchboard.errors import InvalidRequest, RateLimited, SwitchboardError
from switchboard.gateway import Gateway
from switchboard.pipeline.context import open_context

if TYPE_CHECKING:
    from switchboard.keys.models import ApiKey

router = APIRouter()
log = logging.getLogger("switchboard.api")


class WsChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=128)
    type: str = "message"
    message: str = Field(min_length=1, max_length=100_000)
    conversation_id: str | None = Field(None, min_length=1, max_length=128)
    model: str | None = Field(None, min_length=1, max_length=256)
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=4096)


@dataclass
class Session:
    ws: WebSocket
    gateway: Gateway
    key: ApiKey | None
    max_queued: int
    queue: asyncio.Queue[WsChatIn] = field(default_factory=asyncio.Queue)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    current: tuple[str, asyncio.Task[None]] | None = None
    dropped: set[str] = field(default_factory=set)  # queued ids cancelled before their turn

    async def send(self, payload: dict[str, Any]) -> None:
        async with self.lock:
            await self.ws.send_text(orjson.dumps(payload).decode())

    async def send_error(self, message_id: str | None, exc: SwitchboardError) -> None:
        await self.send({"type": "error", "id": message_id, **error_json(exc)})


async def _reply(session: Session, msg: WsChatIn) -> None:
    """One message, one request: its own id, clock and context, through the whole chain."""
    gateway = session.gateway
    chat = turn_request(
        message=msg.message,
        model=msg.model or gateway.default_model,
        system=None,
        temperature=msg.temperature,
        max_tokens=msg.max_tokens,
        stream=True,
    )
    ctx = open_context("ws.chat", chat, key=session.key)
    attach_turn(ctx, msg.conversation_id)
    stream = await gateway.pipeline(ctx)
    assert not isinstance(stream, ChatResponse | EmbeddingResponse)
    try:
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.content:
                    await session.send({"type": "token", "id": msg.id, "content": choice.content})
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    finish = ctx.reply.finish_reason() if ctx.reply is not None else None
    summary = turn_summary(ctx, ctx.model, finish)
    await session.send({"type": "done", "id": msg.id, **summary})


async def _serve(session: Session) -> None:
    """Answer queued messages one at a time; a cancelled reply does not stop the worker."""
    while True:
        msg = await session.queue.get()
        if msg.id in session.dropped:
            session.dropped.discard(msg.id)
            continue
        task = asyncio.create_task(_reply(session, msg))
        session.current = (msg.id, task)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task  # let the reply release what it holds before the worker ends
                raise  # the worker itself is being cancelled (disconnect)
            await session.send_error(msg.id, InvalidRequest("reply cancelled", code="cancelled"))
        except SwitchboardError as exc:
            await session.send_error(msg.id, exc)
        except Exception:
            log.exception("websocket reply %s failed", msg.id)
            await session.send_error(msg.id, SwitchboardError("internal error"))
        finally:
            session.current = None


def _cancel(session: Session, message_id: object) -> None:
    if message_id is not None and not isinstance(message_id, str):
        raise InvalidRequest("`id` of a cancel must be a string", param="id")
    if session.current is not None and message_id in (None, session.current[0]):
        session.current[1].cancel()
    elif message_id is not None and len(session.dropped) < session.queue.qsize():
        session.dropped.add(message_id)  # bounded: never more than there are queued messages


def _parse(raw: str | None) -> dict[str, Any]:
    """A text frame holding one JSON object, bounded like an HTTP body (depth)."""
    if raw is None:
        raise InvalidRequest("send each message as a text frame holding a JSON object")
    return load_json_object(raw.encode())


async def _read(session: Session) -> None:
    while True:
        frame = await session.ws.receive()
        if frame["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(frame.get("code", 1000))
        data: dict[str, Any] = {}
        try:
            data = _parse(frame.get("text"))
            if data.get("type") == "cancel":
                _cancel(session, data.get("id"))
                continue
            msg = WsChatIn.model_validate(data)
            if session.queue.qsize() >= session.max_queued:
                raise RateLimited(
                    f"at most {session.max_queued} messages may wait on one connection",
                    code="queue_full",
                )
        except ValidationError as exc:
            message_id = data.get("id")
            await session.send_error(
                message_id if isinstance(message_id, str) else None, invalid_from_validation(exc)
            )
            continue
        except SwitchboardError as exc:
            message_id = data.get("id")
            await session.send_error(message_id if isinstance(message_id, str) else None, exc)
            continue
        await session.send({"type": "ack", "id": msg.id})
        session.queue.put_nowait(msg)


@router.websocket("/ws/chat/{client_id}")
async def ws_chat(ws: WebSocket, client_id: str) -> None:
    gateway = gateway_of(ws)
    try:
        key = await caller_key(ws, gateway)
    except SwitchboardError:
        await ws.close(code=1008, reason="missing or invalid API key")  # refuses the handshake
        return
    await ws.accept()
    session = Session(ws, gateway, key, gateway.settings.ws_max_queued)
    worker = asyncio.create_task(_serve(session))
    try:
        await _read(session)
    except WebSocketDisconnect:
        pass
    finally:
        worker.cancel()
        with contextlib.suppress(BaseException):
            await worker
