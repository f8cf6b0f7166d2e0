"""Rate limits, concurrency slots and spend budgets, in-process or shared through Redis.

`build_limit_backends` picks the stores from the settings: in-process when no Redis URL is set,
else Redis wrapped in the Redis-down policy of `fallback.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from switchboard.limits.base import ConcurrencyLimiter, RateLimiter, SpendLedger
from switchboard.limits.fallback import (
    FallbackConcurrencyLimiter,
    FallbackRateLimiter,
    FallbackSpendLedger,
    OnError,
    OutageBackoff,
    StoreGuard,
)
from switchboard.limits.memory import (
    MemoryConcurrencyLimiter,
    MemoryRateLimiter,
    MemorySpendLedger,
)
from switchboard.limits.redis import RedisConcurrencyLimiter, RedisRateLimiter, RedisSpendLedger


@dataclass
class LimitBackends:
    """The three stores the pipeline uses, and the Redis client to close at shutdown."""

    rate: RateLimiter
    concurrency: ConcurrencyLimiter
    spend: SpendLedger
    client: Redis | None = None

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()


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
    """In-process stores when `redis_url` is None, else Redis ones behind the down policy."""
    if redis_url is None:
        return LimitBackends(MemoryRateLimiter(), MemoryConcurrencyLimiter(), MemorySpendLedger())
    client = connect_redis(
        redis_url, socket_timeout_s=socket_timeout_s, max_connections=max_connections
    )
    backoff = OutageBackoff(backoff_s)
    return LimitBackends(
        rate=FallbackRateLimiter(
            RedisRateLimiter(client, prefix),
            MemoryRateLimiter(),
            StoreGuard("rate_limit", backoff, on_error),
            on_redis_down,
        ),
        concurrency=FallbackConcurrencyLimiter(
            RedisConcurrencyLimiter(client, prefix),
            MemoryConcurrencyLimiter(),
            StoreGuard("concurrency", backoff, on_error),
            on_redis_down,
        ),
        spend=FallbackSpendLedger(
            RedisSpendLedger(client, prefix),
            MemorySpendLedger(),
            StoreGuard("spend", backoff, on_error),
            on_redis_down,
        ),
        client=client,
    )


def connect_redis(url: str, *, socket_timeout_s: float = 0.25, max_connections: int = 64) -> Redis:
    """A client for the limit stores; creating it does no I/O.

    Commands are never retried by the client (a retried script could count a request twice), and
    a burst beyond `max_connections` waits for a free connection instead of failing.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=max(1.0, 4 * socket_timeout_s),
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)
