"""Fault tests against a redis-server of our own: kill it, restart it.

The outage back-off runs on a clock the test moves, so nothing waits for it to pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from switchboard.limits import Limit, LimitBackends, limit_backends
from switchboard.limits.fallback import Policy
from switchboard.stores.backbone import RedisOptions, StoreBackbone

BACKOFF_S = 1.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def pass_backoff(self) -> None:
        self.now += BACKOFF_S


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def build(
    redis_process: Any, clock: Clock
) -> AsyncIterator[tuple[Callable[..., LimitBackends], list[str]]]:
    errors: list[str] = []
    made: list[StoreBackbone] = []

    def make(policy: Policy, budget_policy: Policy = "closed") -> LimitBackends:
        options = RedisOptions(
            redis_process.url, "sb:", policy, backoff_s=BACKOFF_S, budget_policy=budget_policy
        )
        backbone = StoreBackbone(options, errors.append, clock)
        made.append(backbone)
        return limit_backends(backbone)

    yield make, errors
    for backbone in made:
        await backbone.aclose()


async def restart(redis_process: Any, clock: Clock) -> None:
    await asyncio.to_thread(redis_process.start)
    clock.pass_backoff()


def backend(decision: Any) -> str | None:
    return decision.reservation.backend if decision.reservation else None


async def test_open_policy_limits_locally_then_returns_to_redis(
    redis_process: Any, build: Any, clock: Clock
) -> None:
    make, errors = build
    backends = make("open", budget_policy="open")
    limits = [Limit("key:o", rpm=3)]
    first = await backends.rate.reserve(limits, 1)
    assert first.allowed and first.reservation.backend == "redis"
    await asyncio.to_thread(redis_process.kill)

    down = [await backends.rate.reserve(limits, 1) for _ in range(4)]
    assert [d.allowed for d in down] == [True, True, True, False]  # local window, empty at start
    assert {d.reservation.backend for d in down[:3]} == {"memory"}
    assert errors == ["rate_limit"]
    assert await backends.concurrency.acquire("key:o", 1, "lease")
    assert (await backends.spend.reserve("key:o", "total", 5, 10)).allowed

    await restart(redis_process, clock)  # a fresh, empty server: scripts must be reloaded too
    back = await backends.rate.reserve(limits, 1)
    assert back.allowed and back.reservation.backend == "redis"
    assert back.remaining_requests == 2
    assert errors == ["rate_limit"]


async def test_budgets_fail_closed_by_default_while_rates_stay_open(
    redis_process: Any, build: Any
) -> None:
    """Open budgets would let each of N replicas spend the whole remaining budget."""
    make, errors = build
    backends = make("open")
    assert (await backends.spend.reserve("key:b", "total", 5, 10)).allowed
    await asyncio.to_thread(redis_process.kill)
    assert (await backends.rate.reserve([Limit("key:b", rpm=3)], 1)).allowed
    spend = await backends.spend.reserve("key:b", "total", 1, 100)
    assert not spend.allowed and spend.unavailable
    assert errors == ["rate_limit"]


async def test_closed_policy_denies_until_redis_returns(
    redis_process: Any, build: Any, clock: Clock
) -> None:
    make, errors = build
    backends = make("closed")
    limits = [Limit("key:c", rpm=3)]
    assert (await backends.rate.reserve(limits, 1)).allowed
    await asyncio.to_thread(redis_process.kill)

    denied = await backends.rate.reserve(limits, 1)
    assert not denied.allowed and denied.unavailable and 1 <= denied.retry_after_s <= 5
    assert not await backends.concurrency.acquire("key:c", 5, "lease")
    spend = await backends.spend.reserve("key:c", "total", 1, 100)
    assert not spend.allowed and spend.unavailable
    assert errors == ["rate_limit"]
    clock.pass_backoff()
    assert not await backends.concurrency.acquire("key:c", 5, "lease")
    assert errors == ["rate_limit", "concurrency"]

    await restart(redis_process, clock)
    assert (await backends.rate.reserve(limits, 1)).allowed
    assert await backends.concurrency.acquire("key:c", 5, "lease")


async def test_every_call_after_the_backoff_tries_redis_again(
    redis_process: Any, build: Any, clock: Clock
) -> None:
    make, errors = build
    backends = make("open")
    await asyncio.to_thread(redis_process.kill)
    for _ in range(3):
        assert (await backends.rate.reserve([Limit("key:f", rpm=5)], 1)).allowed
        clock.pass_backoff()
    assert errors == ["rate_limit"] * 3


async def test_after_a_restart_stale_connections_cost_one_backoff_not_one_each(
    redis_process: Any, build: Any, clock: Clock
) -> None:
    """A pool full of connections the old server closed: one failure, then fresh connections."""
    make, errors = build
    backends = make("open")
    warm = [Limit("warm", rpm=1000)]
    await asyncio.gather(*(backends.rate.reserve(warm, 1) for _ in range(20)))  # 20 pooled
    await asyncio.to_thread(redis_process.restart)

    # A stale connection: redis-py < 8 fails on it once (the outage is noticed); redis-py 8
    # notices the closed socket when it takes it from the pool and reconnects (no outage at all).
    probe = await backends.rate.reserve(warm, 1)
    noticed = ["rate_limit"] if backend(probe) == "memory" else []
    assert errors == noticed
    clock.pass_backoff()
    limits = [Limit("key:r", rpm=10)]
    decisions = await asyncio.gather(*(backends.rate.reserve(limits, 1) for _ in range(15)))
    assert sum(d.allowed for d in decisions) == 10
    assert {backend(d) for d in decisions if d.allowed} == {"redis"}  # counted in Redis
    assert errors == noticed  # at most one failure, never one per stale connection


async def test_each_outage_starts_with_an_empty_local_window(
    redis_process: Any, build: Any, clock: Clock
) -> None:
    make, errors = build
    backends = make("open")
    limits = [Limit("key:w", rpm=2)]
    assert backend(await backends.rate.reserve(limits, 1)) == "redis"
    await asyncio.to_thread(redis_process.kill)
    first_outage = [await backends.rate.reserve(limits, 1) for _ in range(3)]
    assert [d.allowed for d in first_outage] == [True, True, False]

    await restart(redis_process, clock)
    assert backend(await backends.rate.reserve([Limit("other", rpm=5)], 1)) == "redis"
    await asyncio.to_thread(redis_process.kill)
    second_outage = [await backends.rate.reserve(limits, 1) for _ in range(3)]
    assert [d.allowed for d in second_outage] == [True, True, False]
    assert {backend(d) for d in second_outage[:2]} == {"memory"}
    assert errors == ["rate_limit", "rate_limit"]
