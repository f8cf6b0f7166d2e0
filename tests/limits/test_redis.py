"""Redis-only properties: bounded keys, expiry, script caching, and exactness across replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from switchboard.limits import (
    Limit,
    RedisConcurrencyLimiter,
    RedisRateLimiter,
    RedisSpendLedger,
)

T0 = 3_000_000.5
Clients = Callable[..., Awaitable[Redis]]


async def test_rate_hash_stays_bounded_and_expires(redis_client: Redis, prefix: str) -> None:
    rate = RedisRateLimiter(redis_client, prefix)
    for second in range(200):
        await rate.reserve([Limit("key:b", rpm=10_000)], 5, now=T0 + second)
    key = f"{prefix}rl:key:b"
    assert await redis_client.hlen(key) <= 2 * 60 + 4  # 60 buckets of 2 counters, 4 totals
    assert 0 < await redis_client.pttl(key) <= 62_000


async def test_spend_and_lease_keys_expire(redis_client: Redis, prefix: str) -> None:
    ledger = RedisSpendLedger(redis_client, prefix)
    await ledger.reserve("key:e", "d:2026-11-27", 1, 10)
    await ledger.reserve("key:e", "m:2026-11", 1, 10)
    await ledger.reserve("key:e", "total", 1, 10)
    assert 2 * 86_400 < await redis_client.ttl(f"{prefix}sp:key:e:d:2026-11-27") <= 3 * 86_400
    assert 39 * 86_400 < await redis_client.ttl(f"{prefix}sp:key:e:m:2026-11") <= 40 * 86_400
    assert await redis_client.ttl(f"{prefix}sp:key:e:total") == -1
    slots = RedisConcurrencyLimiter(redis_client, prefix)
    await slots.acquire("key:e", 3, "a", ttl_s=30)
    assert 0 < await redis_client.pttl(f"{prefix}cc:key:e") <= 30_000


async def test_three_replicas_admit_exactly_the_limit(
    redis_client: Redis, clients: Clients, prefix: str
) -> None:
    replicas = [await clients() for _ in range(3)]
    limiters = [RedisRateLimiter(client, prefix) for client in replicas]
    limits = [Limit("key:shared", rpm=60, tpm=100_000), Limit("tenant:shared", rpm=1000)]
    decisions = await asyncio.gather(
        *(limiter.reserve(limits, 10) for limiter in limiters for _ in range(100))
    )
    assert sum(d.allowed for d in decisions) == 60
    ledgers = [RedisSpendLedger(client, prefix) for client in replicas]
    spends = await asyncio.gather(
        *(ledger.reserve("key:shared", "total", 7, 700) for ledger in ledgers for _ in range(50))
    )
    assert sum(d.allowed for d in spends) == 100
    leases = [RedisConcurrencyLimiter(client, prefix) for client in replicas]
    grants = await asyncio.gather(
        *(
            slots.acquire("key:shared", 5, f"{i}-{n}")
            for i, slots in enumerate(leases)
            for n in range(40)
        )
    )
    assert sum(grants) == 5


async def test_one_round_trip_per_reserve(redis_client: Redis, prefix: str) -> None:
    rate = RedisRateLimiter(redis_client, prefix)
    limits = [Limit("key:a", rpm=100), Limit("tenant:a", tpm=10_000), Limit("dep:a", rpm=5)]
    await rate.reserve(limits, 1)  # may load the script (NOSCRIPT, then SCRIPT LOAD)
    sent: list[str] = []
    execute = redis_client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await execute(*args, **options)

    redis_client.execute_command = counting  # type: ignore[method-assign]
    for _ in range(20):
        await rate.reserve(limits, 1)
    assert sent == ["EVALSHA"] * 20


async def test_scripts_reload_after_script_flush(redis_process: Any, clients: Clients) -> None:
    client = await clients(redis_process.url)
    rate = RedisRateLimiter(client, "sb:")
    assert (await rate.reserve([Limit("key:f", rpm=2)], 1)).allowed
    await client.script_flush()
    assert (await rate.reserve([Limit("key:f", rpm=2)], 1)).allowed
    assert not (await rate.reserve([Limit("key:f", rpm=2)], 1)).allowed
