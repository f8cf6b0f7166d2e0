"""Cancel the work of a request whose client went away before the response started.

A non-streamed reply (or a stream before its first token) would otherwise hold the upstream
call and the key's concurrency slot for the whole upstream timeout after the client left.
Once the response starts, EventStreamResponse watches the connection itself.

The watcher starts only once the work has taken `WATCH_AFTER_S`: a fast reply costs one timer,
not a task, and a client that leaves is noticed at most that much later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.types import Receive

from switchboard.errors import ClientClosedRequest

T = TypeVar("T")
WATCH_AFTER_S = 0.05


class _Watch:
    __slots__ = ("gone", "task", "timer", "worker")

    def __init__(self, receive: Receive, worker: asyncio.Task[object]) -> None:
        self.gone = False
        self.worker = worker
        self.task: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(WATCH_AFTER_S, self._start, receive)

    def _start(self, receive: Receive) -> None:
        self.task = asyncio.get_running_loop().create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone = True
        self.worker.cancel()

    def stop(self) -> None:
        self.timer.cancel()
        if self.task is not None:
            self.task.cancel()


async def unless_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work` in this task; if the client disconnects first, cancel it (its cleanup runs:
    leases are released, the upstream call is closed) and raise ClientClosedRequest. The
    request body must have been read already."""
    worker = asyncio.current_task()
    if worker is None:
        return await work
    watch = _Watch(receive, worker)
    try:
        return await work
    except asyncio.CancelledError:
        if not watch.gone:
            raise
        worker.uncancel()
        raise ClientClosedRequest("The client closed the connection.") from None
    finally:
        watch.stop()
