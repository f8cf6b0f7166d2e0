"""Optimize stage: trim long context to the model's token budget, set an adaptive max_tokens.

It runs after the cache, so the cache keys and stores what the client sent (two different
long conversations never share an entry because their trimmed forms agree, and a hit costs no
tokenizer work), and before route, so the complexity classifier and the upstream see the
request that is actually sent. Token counting is CPU work: it runs on a worker thread.
"""

from __future__ import annotations

import asyncio

from switchboard.catalogue import Catalogue, OptimizeConfig
from switchboard.domain import ChatRequest, Reply
from switchboard.optimize.tokenizer import TokenCounter, load_counter
from switchboard.optimize.trim import trimmed_copy
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next


def optimize_policies(catalogue: Catalogue) -> dict[str, OptimizeConfig]:
    return {m.name: m.optimize for m in catalogue.models if m.optimize is not None}


class OptimizeStage:
    def __init__(self, policies: dict[str, OptimizeConfig]) -> None:
        self._policies = policies
        self._counters: dict[str, asyncio.Future[TokenCounter]] = {}

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        request = ctx.request
        policy = self._policies.get(request.model)
        if policy is None or ctx.internal or not isinstance(request, ChatRequest):
            return await call_next(ctx)
        counter = await self._counter(policy.tokenizer)
        ctx.request, ctx.optimized = await asyncio.to_thread(trimmed_copy, request, policy, counter)
        return await call_next(ctx)

    def _counter(self, name: str) -> asyncio.Future[TokenCounter]:
        """Each tokenizer is loaded once, on a worker thread, at its first use."""
        loading = self._counters.get(name)
        if loading is None or (loading.done() and loading.exception() is not None):
            loading = asyncio.ensure_future(asyncio.to_thread(load_counter, name))
            self._counters[name] = loading
        return loading
