"""WebSocket chat at `/ws/chat/{client_id}`.

Client -> server: `{"id", "message", "conversation_id"?, "model"?, "max_tokens"?, "temperature"?}`
or `{"type": "cancel", "id"?}`. Server -> client: `ack`, then `token`... and `done` (with usage),
or `error`. Messages are answered in the order they arrive: one sent while a reply streams is
acknowledged and queued, never dropped. `cancel` stops the reply in flight (or drops a queued
one by id) and is answered with an `error` whose code is `cancelled`. A disconnect cancels the
upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.api.deps import credential_of, gateway_of, new_context
from switchboard.api.errors import invalid_from_validation
from switchboard.api.render import error_json, usage_json
from switchboard.conversation import finish_turn, start_turn
from switchboard.domain import ChatResponse, EmbeddingResponse, Usage
from switchboard.errors import InvalidRequest, SwitchboardError
from switchboard.gateway import Gateway

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
    queue: asyncio.Queue[WsChatIn] = field(default_factory=asyncio.Queue)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    current: tuple[str, asyncio.Task[None]] | None = None
    dropped: set[str] = field(default_factory=set)

    async def send(self, payload: dict[str, Any]) -> None:
        async with self.lock:
            await self.ws.send_text(orjson.dumps(payload).decode())

    async def send_error(self, message_id: str | None, exc: SwitchboardError) -> None:
        await self.send({"type": "error", "id": message_id, **error_json(exc)})


async def _reply(session: Session, msg: WsChatIn) -> None:
    gateway = session.gateway
    turn = await start_turn(
        gateway.conversations,
        message=msg.message,
        model=msg.model or gateway.default_model,
        conversation_id=msg.conversation_id,
        temperature=msg.temperature,
        max_tokens=msg.max_tokens,
        stream=True,
    )
    ctx = new_context(session.ws, "ws.chat", turn.request)
    stream = await gateway.pipeline(ctx)
    assert not isinstance(stream, ChatResponse | EmbeddingResponse)
    parts: list[str] = []
    usage, finish = Usage(), None
    try:
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.content:
                    parts.append(choice.content)
                    await session.send({"type": "token", "id": msg.id, "content": choice.content})
                finish = choice.finish_reason or finish
            usage = chunk.usage or usage
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    await finish_turn(gateway.conversations, turn, "".join(parts))
    await session.send(
        {
            "type": "done",
            "id": msg.id,
            "conversation_id": turn.conversation_id,
            "finish_reason": finish,
            "usage": usage_json(usage),
            "latency_ms": round((time.perf_counter() - ctx.started) * 1000.0, 3),
        }
    )


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
                raise  # the worker itself is being cancelled (disconnect)
            await session.send_error(msg.id, InvalidRequest("reply cancelled", code="cancelled"))
        except SwitchboardError as exc:
            await session.send_error(msg.id, exc)
        except Exception:
            log.exception("websocket reply %s failed", msg.id)
            await session.send_error(msg.id, SwitchboardError("internal error"))
        finally:
            session.current = None


def _cancel(session: Session, message_id: str | None) -> None:
    if session.current is not None and message_id in (None, session.current[0]):
        session.current[1].cancel()
    elif message_id is not None:
        session.dropped.add(message_id)


async def _read(session: Session) -> None:
    while True:
        raw = await session.ws.receive_text()
        try:
            data = orjson.loads(raw)
            if not isinstance(data, dict):
                raise InvalidRequest("each message must be a JSON object")
            if data.get("type") == "cancel":
                _cancel(session, data.get("id"))
                continue
            msg = WsChatIn.model_validate(data)
        except orjson.JSONDecodeError:
            await session.send_error(None, InvalidRequest("message is not valid JSON"))
            continue
        except ValidationError as exc:
            await session.send_error(data.get("id"), invalid_from_validation(exc))
            continue
        except InvalidRequest as exc:
            await session.send_error(None, exc)
            continue
        await session.send({"type": "ack", "id": msg.id})
        session.queue.put_nowait(msg)


async def _key_is_valid(ws: WebSocket, gateway: Gateway) -> bool:
    credential = credential_of(ws)
    if gateway.keys is None or credential is None:
        return False
    key = await gateway.keys.authenticate(credential)
    return key is not None and key.status(datetime.now(UTC)) == "active"


@router.websocket("/ws/chat/{client_id}")
async def ws_chat(ws: WebSocket, client_id: str) -> None:
    gateway = gateway_of(ws)
    if gateway.settings.auth_required and not await _key_is_valid(ws, gateway):
        await ws.close(code=1008, reason="missing or invalid API key")  # refuses the handshake
        return
    await ws.accept()
    session = Session(ws, gateway)
    worker = asyncio.create_task(_serve(session))
    try:
        await _read(session)
    except WebSocketDisconnect:
        pass
    finally:
        if session.current is not None:
            session.current[1].cancel()
        worker.cancel()
        with contextlib.suppress(BaseException):
            await worker
