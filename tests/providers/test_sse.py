"""SSE parsing is independent of where the network cuts the byte stream."""

from __future__ import annotations

import pytest

from switchboard.providers.sse import iter_sse

STREAM = (
    ": keep-alive comment\r\n"
    "event: message_start\r\n"
    'data: {"text": "héllo wörld ✓"}\r\n'
    "\r\n"
    "data: line one\n"
    "data: line two\n"
    "\n"
    "data: [DONE]"  # the last event without its blank line
).encode()


async def parse(pieces: list[bytes]) -> list[tuple[str, str]]:
    async def chunks():  # type: ignore[no-untyped-def]
        for piece in pieces:
            yield piece

    return [(e.event, e.data) async for e in iter_sse(chunks())]


EXPECTED = [
    ("message_start", '{"text": "héllo wörld ✓"}'),
    ("message", "line one\nline two"),
    ("message", "[DONE]"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 61, len(STREAM)])
async def test_any_chunking_gives_the_same_events(size: int) -> None:
    pieces = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert await parse(pieces) == EXPECTED  # multi-byte characters cut mid-way included
