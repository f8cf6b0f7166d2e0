"""Latency and CPU of one limits reserve against a real Redis (the per-request cost of limits).

    python -m bench.limits_latency [--redis redis://127.0.0.1:6379/0] [--n 2000]

Prints p50/p99 wall time and CPU per call for PING (the client's floor), a Redis reserve over
three limits, a budget reserve, the in-process limiter, and a whole request's limits (RPM/TPM
of key and tenant, a concurrency slot and a budget: reserved and settled) done store by store
(three reserves, a release and two settles, as before issue 11) against one admission (one
script call; the settle queued and written in batches).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from switchboard.limits import (
    AdmitPlan,
    LeasePlan,
    Limit,
    LimitBackends,
    MemoryRateLimiter,
    SpendPlan,
    build_limit_backends,
)

LIMITS = [
    Limit("key:a", 10**9, 10**12),
    Limit("tenant:t", 10**9, 10**12),
    Limit("deployment:d", 10**9, None),
]


async def timed(op: Callable[[], Awaitable[object]], n: int) -> tuple[float, float, float]:
    for _ in range(100):
        await op()
    wall: list[float] = []
    cpu0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        await op()
        wall.append((time.perf_counter() - t0) * 1000)
    cpu_us = (time.process_time() - cpu0) / n * 1e6
    wall.sort()
    return statistics.median(wall), wall[int(n * 0.99) - 1], cpu_us


def store_by_store(backends: LimitBackends) -> Callable[[], Awaitable[object]]:
    """One request's limits as the stage did them before: each store on its own round trips."""

    async def request() -> None:
        lease = uuid.uuid4().hex[:16]
        spend, rate = await asyncio.gather(
            backends.spend.reserve("key:a", "total", 10, 10**15),
            backends.rate.reserve(LIMITS[:2], 100),
        )
        await backends.concurrency.acquire("key:a", 10**6, lease)
        await backends.concurrency.release("key:a", lease)
        assert rate.reservation is not None
        await asyncio.gather(
            backends.rate.settle(rate.reservation, 50),
            backends.spend.settle("key:a", "total", 10, 5, spend.hold),
        )

    return request


def one_admission(backends: LimitBackends) -> Callable[[], Awaitable[object]]:
    """The same request's limits in one script call; its settle is queued (batched)."""
    limiter = backends.limiter

    async def request() -> None:
        once = uuid.uuid4().hex[:16]
        plan = AdmitPlan(
            LIMITS[:2],
            100,
            LeasePlan("key:a", 10**6, once),
            SpendPlan("key:a", "total", 10, 10**15),
            once,
        )
        admission = await limiter.admit(plan)
        limiter.settle(admission, 50, 5)

    return request


async def main(url: str, n: int) -> None:
    prefix = f"sbbench:latency:{uuid.uuid4().hex}:"
    backends = build_limit_backends(url, prefix, "open", lambda kind: None)
    assert backends.client is not None
    client = backends.client
    memory = MemoryRateLimiter()
    rows = {
        "PING round trip": lambda: client.ping(),
        "rate reserve, 3 limits (Redis)": lambda: backends.rate.reserve(LIMITS, 100),
        "spend reserve (Redis)": lambda: backends.spend.reserve("key:a", "total", 1, 10**15),
        "rate reserve, 3 limits (in-process)": lambda: memory.reserve(LIMITS, 100),
        "request limits, store by store (Redis)": store_by_store(backends),
        "request limits, one admission (Redis)": one_admission(backends),
    }
    await backends.spend.seed("key:a", "total", 0)
    for name, op in rows.items():
        p50, p99, cpu = await timed(op, n)
        print(f"{name:<38} p50 {p50:.3f} ms  p99 {p99:.3f} ms  cpu {cpu:.0f} us/call")
    await backends.limiter.drain()
    keys = [k async for k in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await backends.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.redis, args.n))
