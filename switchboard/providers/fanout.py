"""`n` > 1 for upstreams that answer one choice a call: n calls in parallel, merged into one
reply (choices indexed 0..n-1, usage summed), JSON and streamed.

A request `seed` is offset by the choice's index, so seeded choices differ yet repeat.
"""

from __future__ import annotations

import asyncio
import dataclasses

from switchboard.domain import ChatChunk, ChatRequest, ChatResponse, Choice, ChunkStream, Usage
from switchboard.providers.base import Provider

_END = object()


def single_requests(request: ChatRequest, n: int) -> list[ChatRequest]:
    """The n one-choice requests that together answer `request`."""
    params = {k: v for k, v in request.params.items() if k != "n"}
    seed = params.get("seed")
    out = []
    for i in range(n):
        if isinstance(seed, int):
            params = {**params, "seed": seed + i}
        out.append(dataclasses.replace(request, params=dict(params)))
    return out


def merge_replies(replies: list[ChatResponse]) -> ChatResponse:
    first = replies[0]
    choices: list[Choice] = []
    usage: Usage | None = None
    for i, reply in enumerate(replies):
        choices.extend(dataclasses.replace(c, index=i) for c in reply.choices[:1])
        if reply.usage is not None:
            usage = reply.usage if usage is None else usage.plus(reply.usage)
    return dataclasses.replace(first, choices=choices, usage=usage)


async def fan_out_chat(provider: Provider, request: ChatRequest, n: int) -> ChatResponse:
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(provider.chat(r)) for r in single_requests(request, n)]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return merge_replies([t.result() for t in tasks])


async def fan_out_stream(provider: Provider, request: ChatRequest, n: int) -> ChunkStream:
    """The n streams' chunks as they come, each choice renumbered to its stream's index, one
    id for all; their usage chunks are held back and sent summed once every stream ended."""
    queue: asyncio.Queue[tuple[int, object]] = asyncio.Queue()

    async def pump(index: int, stream: ChunkStream) -> None:
        try:
            async for chunk in stream:
                await queue.put((index, chunk))
            await queue.put((index, _END))
        except Exception as exc:  # handed to the consumer, which raises it
            await queue.put((index, exc))
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    streams = [provider.stream(r) for r in single_requests(request, n)]
    tasks = [asyncio.create_task(pump(i, s)) for i, s in enumerate(streams)]
    head: ChatChunk | None = None
    usage: Usage | None = None
    running = n
    try:
        while running:
            index, item = await queue.get()
            if item is _END:
                running -= 1
                continue
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, ChatChunk)
            head = head or item
            if item.usage is not None:
                usage = item.usage if usage is None else usage.plus(item.usage)
            if item.choices:
                choices = [dataclasses.replace(c, index=index) for c in item.choices]
                yield dataclasses.replace(
                    item, id=head.id, created=head.created, choices=choices, usage=None
                )
        if head is not None and usage is not None:
            yield ChatChunk(head.id, head.created, head.model, choices=[], usage=usage)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
