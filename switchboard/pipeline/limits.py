"""Limits stage: per-key budget, requests/tokens per minute (key and tenant) and concurrency.

All of a request's limits are checked and reserved in one step before the upstream call (one
Redis script call; tokens: prompt estimate + reply cap; cost: the dearest deployment that may
serve) and settled with the real usage when the reply or stream ends, without waiting (queued
and written in batches), so N replicas sharing Redis enforce one limit, not N.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from switchboard.catalogue import Price, TenantLimits
from switchboard.domain import (
    ChatRequest,
    ChatResponse,
    ChunkStream,
    EmbeddingResponse,
    Reply,
    Usage,
)
from switchboard.errors import BudgetExceeded, RateLimited, ServiceNotReady
from switchboard.keys.models import ApiKey
from switchboard.limits.admission import Admission, AdmitPlan, LeasePlan, SpendPlan
from switchboard.limits.types import Limit
from switchboard.pipeline.context import RequestContext, new_request_id
from switchboard.pipeline.stage import Next
from switchboard.pricing import cost_micro
from switchboard.tokens import estimate_prompt_tokens

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore
    from switchboard.limits import LimitBackends


log = logging.getLogger("switchboard.limits")
STORE_RETRY_S = 2.0  # Retry-After when the limits store is down under the closed policy


def budget_period(key: ApiKey, now: datetime) -> str:
    if key.budget_period == "daily":
        return f"d:{now.date().isoformat()}"
    if key.budget_period == "monthly":
        return f"m:{now.strftime('%Y-%m')}"
    return "total"


class LimitsStage:
    def __init__(
        self,
        backends: LimitBackends,
        keys: KeyStore,
        price_of: Callable[[str], Price],
        tenants: Mapping[str, TenantLimits],
        reserve_completion_tokens: int,
    ) -> None:
        self._limiter = backends.limiter
        self._keys = keys
        self._price_of = price_of
        self._tenants = tenants
        self._reply_tokens = reserve_completion_tokens

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        key = ctx.key
        if key is None:  # auth is off: nothing to limit per key
            return await call_next(ctx)
        plan = self._plan(ctx, key)
        if plan is None:
            return await call_next(ctx)
        try:
            admission = await self._admit(ctx, key, plan)
        except (RateLimited, BudgetExceeded, ServiceNotReady):
            raise
        except BaseException:  # interrupted in flight: it may have reserved
            self._limiter.release_interrupted(plan)
            raise
        try:
            reply = await call_next(ctx)
        except BaseException:
            self._settle(admission, ctx, None)
            raise
        if isinstance(reply, ChatResponse | EmbeddingResponse):
            self._settle(admission, ctx, ctx.usage)
            return reply
        return self._settle_after(ctx, admission, reply)

    def _plan(self, ctx: RequestContext, key: ApiKey) -> AdmitPlan | None:
        """What limits this request, with its worst case: None if nothing does."""
        rates = [Limit(f"key:{key.id}", key.rpm, key.tpm)] if key.rpm or key.tpm else []
        tenant = self._tenants.get(key.tenant)
        if tenant is not None and (tenant.rpm or tenant.tpm):
            rates.append(Limit(f"tenant:{key.tenant}", tenant.rpm, tenant.tpm))
        if not rates and key.budget_usd is None and key.max_concurrency is None:
            return None
        prompt = estimate_prompt_tokens(ctx.request)
        reply_cap = 0
        if isinstance(ctx.request, ChatRequest):  # n choices may be n calls, each with the prompt
            n = ctx.request.choice_count()
            prompt *= n
            reply_cap = (ctx.request.token_limit() or self._reply_tokens) * n
        once = new_request_id()  # the gateway's own: a client-sent request id is no lease
        lease = None
        if key.max_concurrency is not None:
            lease = LeasePlan(f"key:{key.id}", key.max_concurrency, once)
        spend = None
        if key.budget_usd is not None:
            price = self._price_of(ctx.request.model)
            spend = SpendPlan(
                f"key:{key.id}",
                budget_period(key, datetime.now(UTC)),
                cost_micro(Usage(prompt, reply_cap), price),
                round(key.budget_usd * 1_000_000),
            )
        return AdmitPlan(rates, prompt + reply_cap, lease, spend, once)

    async def _admit(self, ctx: RequestContext, key: ApiKey, plan: AdmitPlan) -> Admission:
        admission = await self._limiter.admit(plan)
        if not admission.seeded and plan.spend is not None:
            # first use here, or Redis lost it: start from the database, then ask again
            now = datetime.now(UTC)
            spent = await self._keys.spend(key.id, since=key.budget_window_start(now.date()))
            await self._limiter.seed(plan.spend.scope, plan.spend.period, round(spent * 1e6))
            admission = await self._limiter.admit(plan)  # an unseeded reply kept no once-key
        ctx.ratelimit = admission.rate
        if admission.allowed:
            return admission
        if admission.unavailable or not admission.seeded:
            what = "Budget" if admission.unavailable == "spend" else "Rate-limit"
            raise ServiceNotReady(
                f"{what} store unavailable; try again shortly.", retry_after=STORE_RETRY_S
            )
        if admission.refused == "spend":
            raise BudgetExceeded(
                f"This API key's budget of ${key.budget_usd:.2f} ({key.budget_period}) is used up: "
                f"${admission.spent_micro / 1e6:.4f} spent."
            )
        if admission.refused == "rate" and admission.rate is not None:
            raise RateLimited(
                "Rate limit reached for this API key; retry after the time in Retry-After.",
                retry_after=admission.rate.retry_after_s,
            )
        raise RateLimited(
            f"Too many concurrent requests for this API key (limit {key.max_concurrency}).",
            code="concurrency_limit_exceeded",
            retry_after=1,
        )

    async def drain(self) -> None:
        """Write out the settlements still queued (at shutdown)."""
        await self._limiter.drain()

    async def _settle_after(
        self, ctx: RequestContext, admission: Admission, stream: ChunkStream
    ) -> ChunkStream:
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # the accountant sets ctx.usage
            self._settle(admission, ctx, ctx.usage)

    def _settle(self, admission: Admission, ctx: RequestContext, usage: Usage | None) -> None:
        """Settle tokens, spend and the slot with the real usage (none for a failed request);
        returns at once: the reservations held the worst case, so settling late only frees."""
        price = ctx.deployment.price if ctx.deployment is not None else None
        actual = cost_micro(usage, price) if usage is not None and price is not None else 0
        try:
            self._limiter.settle(admission, usage.total_tokens if usage else 0, actual)
        except Exception as exc:  # a bad figure must not fail a request that was served
            log.warning("could not settle a reservation: %s", type(exc).__name__)
