"""Latency and CPU of one limits reserve against a real Redis (the per-request cost of limits).

    python -m bench.limits_latency [--redis redis://127.0.0.1:6379/0] [--n 2000]

Prints p50/p99 wall time and CPU per call for PING (the client's floor), a Redis reserve over
three limits, the same through the Redis-down wrapper, and the in-process limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from switchboard.limits import Limit, MemoryRateLimiter, build_limit_backends

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
    }
    for name, op in rows.items():
        p50, p99, cpu = await timed(op, n)
        print(f"{name:<38} p50 {p50:.3f} ms  p99 {p99:.3f} ms  cpu {cpu:.0f} us/call")
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
