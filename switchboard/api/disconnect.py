"""Cancel the work of a request whose client went away before the response started.

A non-streamed reply (or a stream before its first token) would otherwise hold the upstream
call and the key's concurrency slot for the whole upstream timeout after the client left.
Once the response starts, EventStreamResponse watches the connection itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.types import Receive

from switchboard.errors import ClientClosedRequest

T = TypeVar("T")


async def unless_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work` in this task; if the client disconnects first, cancel it (its cleanup runs:
    leases are released, the upstream call is closed) and raise ClientClosedRequest. The
    request body must have been read already."""
    worker = asyncio.current_task()
    gone = False

    async def watch() -> None:
        nonlocal gone
        while (await receive())["type"] != "http.disconnect":
            pass
        gone = True
        if worker is not None:
            worker.cancel()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        return await work
    except asyncio.CancelledError:
        if not gone or worker is None:
            raise
        worker.uncancel()
        raise ClientClosedRequest("The client closed the connection.") from None
    finally:
        watcher.cancel()
