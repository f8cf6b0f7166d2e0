"""Server-sent events: split an upstream byte stream into events."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from switchboard.providers.base import SseEvent


async def iter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SseEvent]:
    """Parse SSE from byte chunks cut anywhere (one network read each, not one await a line).

    Comments and ids are ignored; `data` lines of one event are joined with newlines.
    """
    pending = b""
    event = ""
    data: list[str] = []
    async for chunk in chunks:
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()  # an incomplete last line waits for the next chunk
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if not line:
                if data:
                    yield SseEvent(event or "message", "\n".join(data))
                event, data = "", []
                continue
            if line[0] == 58:  # ":" starts a comment
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value.decode("utf-8"))
            elif name == b"event":
                event = value.decode("utf-8")
    if pending.rstrip(b"\r").startswith(b"data:"):
        value = pending.rstrip(b"\r")[5:]
        data.append((value[1:] if value[:1] == b" " else value).decode("utf-8"))
    if data:
        yield SseEvent(event or "message", "\n".join(data))
