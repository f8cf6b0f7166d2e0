"""Server-sent events: split an upstream byte stream into events."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from switchboard.providers.base import SseEvent


async def iter_sse(lines: AsyncIterable[bytes]) -> AsyncIterator[SseEvent]:
    """Parse SSE lines (each ending in a newline) into events; comments and ids are ignored."""
    event = ""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line:
            if data:
                yield SseEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(b":"):
            continue
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value.decode("utf-8"))
        elif name == b"event":
            event = value.decode("utf-8")
    if data:
        yield SseEvent(event or "message", "\n".join(data))
