"""Rate limits, concurrency slots and spend budgets, in-process or shared through Redis.

`limit_backends` picks the stores: in-process without a store backbone, else Redis (the
backbone's client, prefix and policy) wrapped in the Redis-down policy of `fallback.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

from switchboard.limits.admission import RequestLimiter
from switchboard.limits.admission_fallback import FallbackRequestLimiter
from switchboard.limits.admission_memory import MemoryRequestLimiter
from switchboard.limits.admission_redis import RedisRequestLimiter
from switchboard.limits.base import ConcurrencyLimiter, RateLimiter, SpendLedger
from switchboard.limits.fallback import (
    FallbackConcurrencyLimiter,
    FallbackRateLimiter,
    FallbackSpendLedger,
    OnError,
)
from switchboard.limits.memory import (
    MemoryConcurrencyLimiter,
    MemoryRateLimiter,
    MemorySpendLedger,
)
from switchboard.limits.redis import RedisConcurrencyLimiter, RedisRateLimiter, RedisSpendLedger
from switchboard.limits.settle_queue import SettleFailure
from switchboard.stores.backbone import RedisOptions, StoreBackbone, connect_redis

__all__ = ["LimitBackends", "build_limit_backends", "connect_redis", "limit_backends"]


@dataclass
class LimitBackends:
    """The three stores the pipeline uses; `client` is the Redis client they use, if any.

    `owned` is a backbone these stores were built with and close at shutdown (a shared backbone
    is closed by whoever built it).
    """

    rate: RateLimiter
    concurrency: ConcurrencyLimiter
    spend: SpendLedger
    client: Redis | None = None
    owned: StoreBackbone | None = None
    request: RequestLimiter | None = None

    def __post_init__(self) -> None:
        rate, concurrency, spend = self.rate, self.concurrency, self.spend
        if (
            self.request is None  # in-process stores: admit on the same ones
            and isinstance(rate, MemoryRateLimiter)
            and isinstance(concurrency, MemoryConcurrencyLimiter)
            and isinstance(spend, MemorySpendLedger)
        ):
            self.request = MemoryRequestLimiter(rate, concurrency, spend)

    @property
    def limiter(self) -> RequestLimiter:
        """All of a request's limits in one step (`admission.py`)."""
        if self.request is None:
            raise RuntimeError("these limit stores were built without a request limiter")
        return self.request

    async def aclose(self) -> None:
        if self.request is not None:
            await self.request.drain()
        if self.owned is not None:
            await self.owned.aclose()


def limit_backends(
    backbone: StoreBackbone | None, on_settle_failure: SettleFailure | None = None
) -> LimitBackends:
    """In-process stores without a backbone, else Redis ones behind its down policies (budgets
    have their own, closed by default). `on_settle_failure(outcome, n)` counts settlements that
    could not be written ("retried", or "dropped" when the queue overflowed)."""
    if backbone is None:
        return LimitBackends(MemoryRateLimiter(), MemoryConcurrencyLimiter(), MemorySpendLedger())
    client, prefix, policy = backbone.client, backbone.prefix, backbone.policy
    local = MemoryRequestLimiter()
    guards = {kind: backbone.guard(kind) for kind in ("rate_limit", "concurrency", "spend")}
    budget_policy = backbone.options.budget_policy
    spend = FallbackSpendLedger(
        RedisSpendLedger(client, prefix), local.spend, guards["spend"], budget_policy
    )
    shared = RedisRequestLimiter(
        client,
        prefix,
        settle_guards=guards,
        on_settle_failure=on_settle_failure,
    )
    return LimitBackends(
        rate=FallbackRateLimiter(
            RedisRateLimiter(client, prefix), local.rate, guards["rate_limit"], policy
        ),
        concurrency=FallbackConcurrencyLimiter(
            RedisConcurrencyLimiter(client, prefix),
            local.concurrency,
            guards["concurrency"],
            policy,
        ),
        spend=spend,
        client=client,
        request=FallbackRequestLimiter(shared, local, guards, policy, spend),
    )


def build_limit_backends(
    redis_url: str | None,
    prefix: str,
    on_redis_down: Literal["open", "closed"],
    on_error: OnError,
    *,
    socket_timeout_s: float = 0.25,
    max_connections: int = 64,
    backoff_s: float = 1.0,
) -> LimitBackends:
    """Limit stores on a backbone of their own (benchmarks, tools); closed with the stores."""
    if redis_url is None:
        return limit_backends(None)
    options = RedisOptions(
        redis_url, prefix, on_redis_down, socket_timeout_s, max_connections, backoff_s
    )
    backbone = StoreBackbone(options, on_error)
    backends = limit_backends(backbone)
    backends.owned = backbone
    return backends
