"""An SSE response that cancels its producer as soon as the client disconnects.

Starlette's StreamingResponse notices a disconnect only at its next write, so a stream waiting
on a slow upstream would keep that upstream busy; here a watcher cancels the producer at once,
and the producer's iterator is always closed, which closes the upstream call.

Events that are ready together (those of one upstream network read) go out in one `send()`:
`ready_batches` joins the parts the producer hands over without waiting, and sends them when it
would have to wait for the next one (or at `BATCH_BYTES`); the last batch ends the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections.abc import AsyncIterator, Awaitable, Generator
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
BATCH_BYTES = 64 * 1024  # a batch is sent once it holds this much, ready or not


async def ready_batches(parts: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`parts` joined into one item for each run of parts that were ready without waiting."""
    batch: list[bytes] = []
    size = 0
    while True:
        step = parts.__anext__()
        try:
            waiting_on = step.send(None)  # type: ignore[attr-defined]
        except StopAsyncIteration:
            break
        except StopIteration as ready:  # produced without waiting: it joins the batch
            part = ready.value
        else:  # the next part needs a wait: send what is ready first
            if batch:
                yield b"".join(batch)
                batch, size = [], 0
            try:
                part = await _resume(step, waiting_on)
            except StopAsyncIteration:
                break
        batch.append(part)
        size += len(part)
        if size >= BATCH_BYTES:
            yield b"".join(batch)
            batch, size = [], 0
    if batch:
        yield b"".join(batch)


@types.coroutine
def _resume(step: Awaitable[bytes], waiting_on: Any) -> Generator[Any, Any, bytes]:
    """Go on running `step` (already started, now waiting on `waiting_on`) as a task would."""
    coro: Any = step
    while True:
        try:
            sent = yield waiting_on
        except BaseException as exc:  # a cancellation goes to the producer
            try:
                waiting_on = coro.throw(exc)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            continue
        try:
            waiting_on = coro.send(sent)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(self, body: AsyncIterator[bytes], headers: dict[str, str] | None = None) -> None:
        self.body_iterator = body
        self.status_code = 200
        self.background = None
        self.init_headers({**SSE_HEADERS, **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        producer = asyncio.current_task()
        disconnected = False

        async def watch() -> None:
            nonlocal disconnected
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    if producer is not None:
                        producer.cancel()
                    return

        watcher = asyncio.create_task(watch())
        batches = ready_batches(self.body_iterator)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in batches:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not disconnected:
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        except OSError:
            pass  # the client went away between our check and the write
        finally:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher
            await batches.aclose()  # type: ignore[attr-defined]
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
