"""reserve() latency against the Redis the suite uses: 2,000 sequential calls, p50 and p99.

Run `pytest tests/limits/test_latency.py -s` to see the figures. The target is 0.5 ms p50 on
loopback; the assertion is looser so that a busy CI machine does not fail it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from switchboard.limits import (
    Limit,
    MemoryRateLimiter,
    RedisRateLimiter,
    build_limit_backends,
)
from switchboard.limits.base import RateLimiter

CALLS = 2_000
LIMITS = [
    Limit("key:bench", rpm=10**9, tpm=10**12),
    Limit("tenant:bench", rpm=10**9, tpm=10**12),
    Limit("deployment:bench", rpm=10**9),
]


async def timed(op: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    for _ in range(100):
        await op()
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await op()
        samples.append(time.perf_counter() - started)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def reserve(limiter: RateLimiter) -> Callable[[], Awaitable[object]]:
    return lambda: limiter.reserve(LIMITS, 100)


async def test_reserve_latency(redis_client: Redis, redis_url: str, prefix: str) -> None:
    ping = await timed(redis_client.ping)
    direct = await timed(reserve(RedisRateLimiter(redis_client, prefix)))
    backends = build_limit_backends(redis_url, prefix, "open", lambda kind: None)
    try:
        wrapped = await timed(reserve(backends.rate))
    finally:
        await backends.aclose()
    full = RedisRateLimiter(redis_client, f"{prefix}full:")
    for age in range(60):  # a busy minute: every scope holds 60 seconds of buckets
        await full.reserve(LIMITS, 100, now=time.time() - age)
    busy = await timed(reserve(full))
    memory = await timed(reserve(MemoryRateLimiter()))
    for name, (p50, p99) in [
        ("PING round trip", ping),
        ("RedisRateLimiter.reserve, 3 limits", direct),
        ("build_limit_backends(...).rate.reserve", wrapped),
        ("same, 60 buckets in each of the 3 scopes", busy),
        ("MemoryRateLimiter.reserve, 3 limits", memory),
    ]:
        print(f"{name:<42} p50 {p50:.3f} ms  p99 {p99:.3f} ms")
    assert wrapped[0] < 2.0 and busy[0] < 2.0
