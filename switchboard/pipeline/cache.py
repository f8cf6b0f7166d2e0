"""Cache stage: answer from the reply cache, or pass on and keep the complete reply.

It runs after auth and limits: a hit has counted as a request (RPM) and leaves `ctx.usage`
unset, so the limits stage settles its token and budget holds at zero (a hit is billed
nothing), while `ctx.cache` tells the record stage what was saved. Replies are kept only when
complete: a stream that was cut, failed or cancelled is never stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from switchboard.cache.entry import CachedReply
from switchboard.cache.facts import CacheFacts
from switchboard.cache.keys import RequestKeys, request_keys
from switchboard.cache.replay import fresh_response, replay_stream
from switchboard.cache.reply_cache import Hit, ReplyCache, scope_of, uncacheable
from switchboard.catalogue import CacheConfig, Price
from switchboard.domain import ChatRequest, ChatResponse, ChunkStream, Reply
from switchboard.observability.cache_metrics import CacheMetrics
from switchboard.pipeline.assembly import ReplyAssembler
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.pricing import cost_usd

FirstPrice = Callable[[str, str | None], Price | None]  # (model, tier) -> the route's first


def _complete(reply: ChatResponse) -> bool:
    return bool(reply.choices) and all(c.finish_reason for c in reply.choices)


class CacheStage:
    def __init__(self, cache: ReplyCache, first_price: FirstPrice, metrics: CacheMetrics) -> None:
        self._cache = cache
        self._first_price = first_price
        self._metrics = metrics

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        request = ctx.request
        if ctx.internal or not isinstance(request, ChatRequest):
            return await call_next(ctx)
        policy = self._cache.policy_for(request.model)
        if policy is None:
            return await call_next(ctx)
        facts = ctx.cache if ctx.cache is not None else CacheFacts()
        ctx.cache = facts
        if uncacheable(request, policy) is not None or self._cache.passes_through(request):
            facts.outcome = "bypass"
            return await call_next(ctx)
        keys = request_keys(request.model, request)
        facts.key = keys.exact
        scope = scope_of(policy, ctx.key.tenant if ctx.key is not None else None)
        if facts.directive.lookup:
            started = time.perf_counter()
            hit = await self._cache.lookup(scope, request.model, keys, policy)
            layer = hit.layer if hit is not None else "miss"
            self._metrics.lookup_seconds.labels(layer).observe(time.perf_counter() - started)
            if hit is not None:
                return self._serve(ctx, facts, hit)
            facts.outcome = "miss"
        else:
            facts.outcome = "bypass"
        reply = await call_next(ctx)
        if not facts.directive.store:
            return reply
        if isinstance(reply, ChatResponse):
            if _complete(reply):
                self._keep(ctx, scope, keys, policy, reply)
            return reply
        return self._keep_when_done(ctx, scope, keys, policy, reply)  # type: ignore[arg-type]

    def _serve(self, ctx: RequestContext, facts: CacheFacts, hit: Hit) -> Reply:
        facts.outcome = "hit-exact" if hit.layer == "exact" else "hit-semantic"
        facts.similarity = hit.similarity
        stored = hit.entry.response
        facts.saved = stored.usage
        price = self._first_price(hit.entry.model, hit.entry.tier)
        if stored.usage is not None and price is not None:
            facts.saved_usd = cost_usd(stored.usage, price)
        reply = fresh_response(stored, ctx.request_id)
        if not ctx.is_stream:
            return reply
        ctx.reply = ReplyAssembler()
        return self._replayed(ctx, ctx.reply, reply)

    async def _replayed(
        self, ctx: RequestContext, assembler: ReplyAssembler, reply: ChatResponse
    ) -> ChunkStream:
        """The replay, assembled as it passes (the conversation memory reads ctx.reply)."""
        async for chunk in replay_stream(reply):
            if assembler.add(chunk) and ctx.first_token_at is None:
                ctx.first_token_at = time.perf_counter()
            yield chunk

    def _keep(
        self,
        ctx: RequestContext,
        scope: str,
        keys: RequestKeys,
        policy: CacheConfig,
        reply: ChatResponse,
    ) -> None:
        if reply.usage is None and ctx.usage is not None:
            reply = replace(reply, usage=ctx.usage)
        entry = CachedReply(reply, ctx.request.model, keys.context, keys.query, ctx.tier)
        self._cache.keep(scope, keys, policy, entry)

    async def _keep_when_done(
        self,
        ctx: RequestContext,
        scope: str,
        keys: RequestKeys,
        policy: CacheConfig,
        stream: ChunkStream,
    ) -> ChunkStream:
        complete = False
        try:
            async for chunk in stream:
                yield chunk
            complete = True
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # the accountant sets ctx.reply
        if complete and ctx.reply is not None:
            reply = ctx.reply.to_response(ctx.usage)
            if _complete(reply):
                self._keep(ctx, scope, keys, policy, reply)
