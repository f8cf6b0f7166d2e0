"""Account stage: the one place that learns a reply's usage and sets `ctx.usage`.

A non-streamed reply carries its usage; a stream is wrapped once, assembled as it passes
(`ctx.reply`) and, when it ends for any reason, its usage is the upstream's report or the one
estimate of pipeline/tokens.py. Stages above it (limits, memory, record) read `ctx.usage` and
`ctx.reply` after their inner stream is closed; none of them accumulates chunks itself.
"""

from __future__ import annotations

import time

from switchboard.domain import ChatResponse, ChunkStream, EmbeddingResponse, Reply
from switchboard.pipeline.assembly import ReplyAssembler
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.tokens import estimate_usage

_CHARS_PER_TOKEN = 4


class AccountStage:
    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        reply = await call_next(ctx)
        if isinstance(reply, EmbeddingResponse):
            ctx.usage = reply.usage
            return reply
        if isinstance(reply, ChatResponse):
            if reply.usage is not None:
                ctx.usage = reply.usage
            else:
                chars = sum(len(c.content or "") for c in reply.choices)
                ctx.usage = estimate_usage(ctx.request, chars // _CHARS_PER_TOKEN + 1)
                ctx.usage_estimated = True
            return reply
        ctx.reply = ReplyAssembler()
        return self._account(ctx, ctx.reply, reply)

    async def _account(
        self, ctx: RequestContext, assembler: ReplyAssembler, stream: ChunkStream
    ) -> ChunkStream:
        try:
            async for chunk in stream:
                if assembler.add(chunk) and ctx.first_token_at is None:
                    ctx.first_token_at = time.perf_counter()
                yield chunk
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            if assembler.usage is not None:
                ctx.usage = assembler.usage
            else:
                ctx.usage = estimate_usage(ctx.request, assembler.pieces)
                ctx.usage_estimated = True
