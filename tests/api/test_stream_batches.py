"""SSE events that are ready together go out in one send(); a wait splits the batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchboard.api.streaming import BATCH_BYTES, ready_batches


async def collect(parts: AsyncIterator[bytes]) -> list[bytes]:
    return [batch async for batch in ready_batches(parts)]


async def test_parts_ready_together_are_joined_and_a_wait_splits_them() -> None:
    async def producer() -> AsyncIterator[bytes]:
        for part in (b"a", b"b", b"c"):  # as parsed from one network read
            yield part
        await asyncio.sleep(0.01)  # the next read
        yield b"d"
        yield b"e"
        await asyncio.sleep(0)
        yield b"[DONE]"

    assert await collect(producer()) == [b"abc", b"de", b"[DONE]"]


async def test_a_producer_that_always_waits_is_sent_part_by_part() -> None:
    async def producer() -> AsyncIterator[bytes]:
        for part in (b"1", b"2", b"3"):
            await asyncio.sleep(0)
            yield part

    assert await collect(producer()) == [b"1", b"2", b"3"]


async def test_a_large_run_is_cut_at_the_batch_size() -> None:
    part = b"x" * (BATCH_BYTES // 4)

    async def producer() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield part

    batches = await collect(producer())
    assert b"".join(batches) == part * 10
    assert [len(b) for b in batches] == [BATCH_BYTES, BATCH_BYTES, 2 * len(part)]


async def test_cancelling_while_waiting_reaches_the_producer() -> None:
    closed = asyncio.Event()
    started = asyncio.Event()

    async def producer() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            started.set()
            await asyncio.sleep(60)
            yield b"never"
        finally:
            closed.set()

    got: list[bytes] = []

    async def consume() -> None:
        async for batch in ready_batches(producer()):
            got.append(batch)

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert got == [b"first"] and closed.is_set()


async def test_errors_of_the_producer_pass_through() -> None:
    async def producer() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0)
        raise RuntimeError("upstream broke")

    seen: list[bytes] = []
    with pytest.raises(RuntimeError, match="upstream broke"):
        async for batch in ready_batches(producer()):
            seen.append(batch)
    assert seen == [b"a"]
