"""One request's limits admitted in one step (all or none) and settled later, in process and on
a real Redis; settlements that cannot be written are retried, counted, and applied once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from switchboard.limits import (
    AdmitPlan,
    LeasePlan,
    Limit,
    MemoryRequestLimiter,
    RedisRequestLimiter,
    RequestLimiter,
    SpendPlan,
    limit_backends,
)
from switchboard.limits.admission import Admission
from switchboard.stores.backbone import RedisOptions, StoreBackbone

from .conftest import connect, drop_prefix

Factory = Callable[[], RequestLimiter]


@pytest.fixture(params=["memory", "redis"])
async def limiters(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Factory]:
    """Makes limiters of one kind that share state (replicas); Redis ones each own a client."""
    if request.param == "memory":
        one = MemoryRequestLimiter()
        yield lambda: one
        return
    clients: list[Redis] = [await connect() for _ in range(3)]
    made: list[RedisRequestLimiter] = []

    def make() -> RequestLimiter:
        limiter = RedisRequestLimiter(clients[len(made) % len(clients)], prefix)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.drain()
    await drop_prefix(clients[0], prefix)
    for client in clients:
        await client.aclose()


def plan(
    rpm: int | None = None,
    lease: int | None = None,
    budget: int | None = None,
    cost: int = 10,
    tokens: int = 5,
) -> AdmitPlan:
    once = uuid.uuid4().hex[:16]
    return AdmitPlan(
        [Limit("key:k", rpm, None)] if rpm else [],
        tokens,
        LeasePlan("key:k", lease, once) if lease is not None else None,
        SpendPlan("key:k", "total", cost, budget) if budget is not None else None,
        once,
    )


async def admit_seeded(limiter: RequestLimiter, p: AdmitPlan) -> Admission:
    got = await limiter.admit(p)
    if not got.seeded:
        assert p.spend is not None and not got.allowed
        await limiter.seed(p.spend.scope, p.spend.period, 0)
        got = await limiter.admit(p)
    return got


async def test_a_refusal_reserves_nothing(limiters: Factory) -> None:
    limiter = limiters()
    held = await admit_seeded(limiter, plan(rpm=10, lease=1, budget=100))
    assert held.allowed
    # the slot is taken: refused by the lease, so neither the rate nor the budget is counted
    for _ in range(3):
        refused = await admit_seeded(limiter, plan(rpm=10, lease=1, budget=100))
        assert (refused.allowed, refused.refused) == (False, "lease")
    assert refused.reserved_micro == 10
    assert refused.rate is not None and refused.rate.remaining_requests == 9
    limiter.settle(held, 5, 7)
    await limiter.drain()
    after = await admit_seeded(limiter, plan(rpm=10, lease=1, budget=100))
    assert after.allowed and after.spent_micro == 7 and after.reserved_micro == 10
    assert after.rate is not None and after.rate.remaining_requests == 8


async def test_refusals_name_the_limit(limiters: Factory) -> None:
    limiter = limiters()
    assert (await admit_seeded(limiter, plan(budget=5, cost=10))).refused == "spend"
    assert (await admit_seeded(limiter, plan(rpm=1))).allowed
    refused = await admit_seeded(limiter, plan(rpm=1))
    assert refused.refused == "rate" and refused.rate is not None
    assert refused.rate.retry_after_s > 0


async def test_exact_across_replicas(limiters: Factory) -> None:
    """60 RPM and a budget of 25 requests, 300 concurrent admits over 3 replicas."""
    replicas = [limiters() for _ in range(3)]
    await replicas[0].seed("key:k", "total", 0)
    results = await asyncio.gather(
        *(replicas[i % 3].admit(plan(rpm=60, budget=250, cost=10, lease=1000)) for i in range(300))
    )
    assert sum(r.allowed for r in results) == 25
    rate_only = await asyncio.gather(*(replicas[i % 3].admit(plan(rpm=60)) for i in range(300)))
    assert sum(r.allowed for r in rate_only) == 60 - 25


async def test_seeding_then_admitting(limiters: Factory) -> None:
    limiter = limiters()
    first = await limiter.admit(plan(budget=100, cost=60))
    assert not first.seeded and not first.allowed
    await limiter.seed("key:k", "total", 50)  # the database says 50 spent already
    assert (await limiter.admit(plan(budget=100, cost=60))).refused == "spend"
    assert (await limiter.admit(plan(budget=100, cost=50))).allowed


async def test_memory_settles_on_the_spot() -> None:
    limiter = MemoryRequestLimiter()
    held = await limiter.admit(plan(lease=1))
    limiter.settle(held, 0, 0)  # no awaiting: the slot is free at once
    assert (await limiter.admit(plan(lease=1))).allowed


async def test_redis_admit_retried_with_its_once_id_counts_once(
    redis_client: Redis, prefix: str
) -> None:
    limiter = RedisRequestLimiter(redis_client, prefix)
    p = plan(rpm=5, lease=3)
    first, again = await limiter.admit(p), await limiter.admit(p)
    assert first.allowed and again.allowed
    assert again.rate is not None and again.rate.remaining_requests == 4
    assert await redis_client.zcard(f"{prefix}cc:key:k") == 1


async def test_an_interrupted_admit_releases_its_lease_and_hold(
    redis_client: Redis, prefix: str
) -> None:
    limiter = RedisRequestLimiter(redis_client, prefix)
    await limiter.seed("key:k", "total", 0)
    p = plan(lease=1, budget=100, cost=40)
    assert (await limiter.admit(p)).allowed  # as if the reply never reached the caller
    limiter.release_interrupted(p)
    await limiter.drain()
    assert await redis_client.zcard(f"{prefix}cc:key:k") == 0
    assert await redis_client.hget(f"{prefix}sp:key:k:total", "reserved") == b"0"


async def test_a_resent_batch_is_applied_once(redis_client: Redis, prefix: str) -> None:
    writes: list[tuple[str, list[str], list[Any]]] = []
    limiter = RedisRequestLimiter(redis_client, prefix)
    real_write = limiter._write

    async def write_twice(batch_id: str, keys: list[str], args: list[Any]) -> object:
        writes.append((batch_id, keys, args))
        await real_write(batch_id, keys, args)
        return await real_write(batch_id, keys, args)  # as if the first reply was lost

    limiter.queue._write = write_twice
    await limiter.seed("key:k", "total", 0)
    held = await limiter.admit(plan(budget=100, cost=40))
    limiter.settle(held, 0, 25)
    await limiter.drain()
    assert len(writes) == 1
    account = await redis_client.hmget(f"{prefix}sp:key:k:total", ["spent", "reserved"])
    assert account == [b"25", b"0"]


@pytest.fixture
async def own_redis_limits(
    redis_process: Any,
) -> AsyncIterator[tuple[Any, list[tuple[str, int]], Callable[[], Awaitable[None]]]]:
    failures: list[tuple[str, int]] = []
    options = RedisOptions(redis_process.url, "sb:", backoff_s=0.05)
    backbone = StoreBackbone(options, lambda kind: None)
    backends = limit_backends(backbone, lambda outcome, n: failures.append((outcome, n)))
    yield backends, failures, backbone.aclose
    await backends.limiter.drain(timeout_s=0.1)
    await backbone.aclose()


async def test_a_failed_settle_write_is_retried_and_counted(
    redis_process: Any, own_redis_limits: Any
) -> None:
    backends, failures, _ = own_redis_limits
    limiter = backends.limiter
    await limiter.seed("key:k", "total", 0)
    held = await limiter.admit(plan(lease=1, budget=1000, cost=100))
    assert held.allowed and held.backend == "redis"
    await asyncio.to_thread(redis_process.kill)
    limiter.settle(held, 3, 42)
    for _ in range(100):  # the first write fails and is counted once, then retried
        if failures:
            break
        await asyncio.sleep(0.02)
    assert failures == [("retried", 1)]
    await asyncio.to_thread(redis_process.start)  # empty: seed again, the settle lands on it
    client = Redis.from_url(redis_process.url)
    try:
        for _ in range(200):
            if await client.hget("sb:sp:key:k:total", "spent") == b"42":
                break
            await asyncio.sleep(0.05)
        assert await client.hget("sb:sp:key:k:total", "spent") == b"42"
    finally:
        await client.aclose()
    assert failures == [("retried", 1)]


async def test_a_batch_redis_refuses_is_dropped_and_the_queue_goes_on(
    redis_client: Redis, prefix: str
) -> None:
    failures: list[tuple[str, int]] = []
    limiter = RedisRequestLimiter(
        redis_client, prefix, on_settle_failure=lambda outcome, n: failures.append((outcome, n))
    )
    await limiter.seed("key:k", "total", 0)
    poisoned = await limiter.admit(plan(lease=5, budget=1000, cost=10))
    await redis_client.set(f"{prefix}cc:not-a-set", "x")  # ZREM on it: a WRONGTYPE error
    limiter.queue.put([f"{prefix}cc:not-a-set"], [0, 0, 0, 1, "lease", 0, 0, 0, 0, ""])
    await limiter.drain()  # the script rejects the bad batch: counted, dropped, not retried
    assert failures == [("dropped", 1)]
    limiter.settle(poisoned, 0, 7)  # the next batch is written
    await limiter.drain()
    assert await redis_client.hget(f"{prefix}sp:key:k:total", "spent") == b"7"
    assert await redis_client.zcard(f"{prefix}cc:key:k") == 0
