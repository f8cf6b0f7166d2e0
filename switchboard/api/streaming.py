"""An SSE response that cancels its producer as soon as the client disconnects.

Starlette's StreamingResponse notices a disconnect only at its next write, so a stream waiting
on a slow upstream would keep that upstream busy; here a watcher cancels the producer at once,
and the producer's iterator is always closed, which closes the upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


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
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.body_iterator:
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
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
