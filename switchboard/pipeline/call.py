"""Call stage: invoke the chosen provider, timing the upstream so overhead can be told apart."""

from __future__ import annotations

import time

from switchboard.domain import ChatRequest, ChunkStream, EmbeddingRequest, Reply
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next


async def timed_stream(ctx: RequestContext, stream: ChunkStream) -> ChunkStream:
    """Pass chunks through, adding each wait to the upstream time; closing it closes the source."""
    clock = time.perf_counter
    try:
        while True:
            t0 = clock()
            try:
                chunk = await anext(stream)
            except StopAsyncIteration:
                return
            finally:
                ctx.upstream_seconds += clock() - t0
            yield chunk
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


class CallStage:
    """The last stage: it answers every request that reaches it."""

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        provider = ctx.provider
        if provider is None:
            raise RuntimeError("call stage reached without a routed provider")
        request = ctx.request
        ctx.attempts += 1
        if isinstance(request, ChatRequest) and request.stream:
            return timed_stream(ctx, provider.stream(request))
        t0 = time.perf_counter()
        try:
            if isinstance(request, EmbeddingRequest):
                return await provider.embed(request)
            return await provider.chat(request)
        finally:
            ctx.upstream_seconds += time.perf_counter() - t0
