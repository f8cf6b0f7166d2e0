"""Limits stage: per-key budget, requests/tokens per minute (key and tenant) and concurrency.

Everything is reserved before the upstream call (tokens: prompt estimate + reply cap; cost: the
dearest deployment that may serve) and settled with the real usage when the reply or stream
ends, so N replicas sharing Redis enforce one limit, not N.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from switchboard.config import Price, TenantLimits
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
from switchboard.limits.types import Decision, Limit, Reservation
from switchboard.pipeline.context import RequestContext, new_request_id
from switchboard.pipeline.stage import Next
from switchboard.pricing import cost_micro
from switchboard.tokens import estimate_prompt_tokens

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore
    from switchboard.limits import LimitBackends


log = logging.getLogger("switchboard.limits")
STORE_RETRY_S = 2.0  # Retry-After when the limits store is down under the closed policy


@dataclass(slots=True)
class Holds:
    """What one request reserved, to be settled once."""

    spend_scope: str | None = None
    spend_period: str = "total"
    spend_micro: int = 0
    spend_hold: str = ""
    rate: Reservation | None = None
    lease_scope: str | None = None
    lease_id: str = ""


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
        self._b = backends
        self._keys = keys
        self._price_of = price_of
        self._tenants = tenants
        self._reply_tokens = reserve_completion_tokens
        self._pending: set[asyncio.Task[None]] = set()

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        key = ctx.key
        if key is None:  # auth is off: nothing to limit per key
            return await call_next(ctx)
        prompt = estimate_prompt_tokens(ctx.request)
        reply_cap = 0
        if isinstance(ctx.request, ChatRequest):  # n choices may be n calls, each with the prompt
            n = ctx.request.choice_count()
            prompt *= n
            reply_cap = (ctx.request.token_limit() or self._reply_tokens) * n
        holds = Holds()
        try:
            if key.budget_usd is not None and self._rate_limited(key):
                # budget and rate are independent: one round trip's wait instead of two
                outcomes = await asyncio.gather(
                    self._reserve_budget(ctx, key, holds, Usage(prompt, reply_cap)),
                    self._reserve_rate(ctx, key, holds, prompt + reply_cap),
                    return_exceptions=True,
                )
                for outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome
            else:  # at most one of them applies: no tasks to spawn
                await self._reserve_budget(ctx, key, holds, Usage(prompt, reply_cap))
                await self._reserve_rate(ctx, key, holds, prompt + reply_cap)
            await self._acquire_slot(key, holds)
        except BaseException:
            await self._finish(holds, ctx, None)
            raise
        try:
            reply = await call_next(ctx)
        except BaseException:
            await self._finish(holds, ctx, None)
            raise
        if isinstance(reply, ChatResponse | EmbeddingResponse):
            await self._finish(holds, ctx, ctx.usage)
            return reply
        return self._settle_after(ctx, holds, reply)

    def _rate_limited(self, key: ApiKey) -> bool:
        tenant = self._tenants.get(key.tenant)
        return bool(key.rpm or key.tpm or (tenant is not None and (tenant.rpm or tenant.tpm)))

    async def _finish(self, holds: Holds, ctx: RequestContext, usage: Usage | None) -> None:
        """Free the concurrency slot now; settle tokens and spend after the response is on its
        way: the reservations hold the worst case, so a late settle can only free capacity."""
        release = None
        if holds.lease_scope is not None:
            scope, holds.lease_scope = holds.lease_scope, None
            release = self._track(self._b.concurrency.release(scope, holds.lease_id))
        if holds.rate is not None or holds.spend_scope is not None:
            self._track(self._settle(holds, ctx, usage))
        if release is not None:
            # tasks of their own: a second cancellation of the request (a client that goes
            # away while the request is already unwinding) cannot interrupt them
            await asyncio.shield(release)

    def _track(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def drain(self) -> None:
        """Wait for settles still in flight (at shutdown)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _settle_after(
        self, ctx: RequestContext, holds: Holds, stream: ChunkStream
    ) -> ChunkStream:
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # the accountant sets ctx.usage
            await self._finish(holds, ctx, ctx.usage)

    async def _reserve_budget(
        self, ctx: RequestContext, key: ApiKey, holds: Holds, worst: Usage
    ) -> None:
        if key.budget_usd is None:
            return
        now = datetime.now(UTC)
        scope, period = f"key:{key.id}", budget_period(key, now)
        amount = cost_micro(worst, self._price_of(ctx.request.model))
        budget = round(key.budget_usd * 1_000_000)
        decision = await self._b.spend.reserve(scope, period, amount, budget)
        if not decision.seeded:  # first use here, or Redis lost it: start from the database
            spent = await self._keys.spend(key.id, since=key.budget_window_start(now.date()))
            await self._b.spend.seed(scope, period, round(spent * 1_000_000))
            if decision.allowed:
                await self._b.spend.settle(scope, period, amount, 0, decision.hold)
            decision = await self._b.spend.reserve(scope, period, amount, budget)
        if decision.unavailable:
            raise ServiceNotReady(
                "Budget store unavailable; try again shortly.", retry_after=STORE_RETRY_S
            )
        if not decision.allowed:
            raise BudgetExceeded(
                f"This API key's budget of ${key.budget_usd:.2f} ({key.budget_period}) is used up: "
                f"${decision.spent_micro / 1e6:.4f} spent."
            )
        holds.spend_scope, holds.spend_period, holds.spend_micro = scope, period, amount
        holds.spend_hold = decision.hold

    async def _reserve_rate(
        self, ctx: RequestContext, key: ApiKey, holds: Holds, tokens: int
    ) -> None:
        limits = [Limit(f"key:{key.id}", key.rpm, key.tpm)] if key.rpm or key.tpm else []
        tenant = self._tenants.get(key.tenant)
        if tenant is not None and (tenant.rpm or tenant.tpm):
            limits.append(Limit(f"tenant:{key.tenant}", tenant.rpm, tenant.tpm))
        if not limits:
            return
        decision: Decision = await self._b.rate.reserve(limits, tokens)
        ctx.ratelimit = decision
        if decision.unavailable:
            raise ServiceNotReady(
                "Rate-limit store unavailable; try again shortly.", retry_after=STORE_RETRY_S
            )
        if not decision.allowed:
            raise RateLimited(
                "Rate limit reached for this API key; retry after the time in Retry-After.",
                retry_after=decision.retry_after_s,
            )
        holds.rate = decision.reservation

    async def _acquire_slot(self, key: ApiKey, holds: Holds) -> None:
        if key.max_concurrency is None:
            return
        scope = f"key:{key.id}"
        lease_id = new_request_id()  # the gateway's own: a client-sent request id is no lease
        # held before asking, so an acquire interrupted in flight is still released
        holds.lease_scope, holds.lease_id = scope, lease_id
        if not await self._b.concurrency.acquire(scope, key.max_concurrency, lease_id):
            holds.lease_scope = None
            raise RateLimited(
                f"Too many concurrent requests for this API key (limit {key.max_concurrency}).",
                code="concurrency_limit_exceeded",
                retry_after=1,
            )

    async def _settle(self, holds: Holds, ctx: RequestContext, usage: Usage | None) -> None:
        """Settle tokens and spend with the real usage (none for a failed request)."""
        steps = []
        if holds.rate is not None:
            steps.append(self._b.rate.settle(holds.rate, usage.total_tokens if usage else 0))
            holds.rate = None
        if holds.spend_scope is not None:
            price = ctx.deployment.price if ctx.deployment is not None else None
            actual = cost_micro(usage, price) if usage is not None and price is not None else 0
            steps.append(
                self._b.spend.settle(
                    holds.spend_scope,
                    holds.spend_period,
                    holds.spend_micro,
                    actual,
                    holds.spend_hold,
                )
            )
            holds.spend_scope = None
        results: list[object] = []
        if len(steps) == 1:
            try:
                await steps[0]
            except Exception as exc:
                results.append(exc)
        elif steps:
            results = list(await asyncio.gather(*steps, return_exceptions=True))
        for result in results:
            if isinstance(result, Exception):
                log.warning("could not settle a reservation: %s", type(result).__name__)
