"""Fault tests against a redis-server of our own: kill it, restart it, stall it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from switchboard.limits import Limit, LimitBackends, build_limit_backends
from switchboard.limits.fallback import Policy

BACKOFF_S = 0.2


@pytest.fixture
async def build(
    redis_process: Any,
) -> AsyncIterator[tuple[Callable[..., LimitBackends], list[str]]]:
    errors: list[str] = []
    made: list[LimitBackends] = []

    def make(policy: Policy) -> LimitBackends:
        backends = build_limit_backends(
            redis_process.url,
            "sb:",
            policy,
            errors.append,
            backoff_s=BACKOFF_S,
        )
        made.append(backends)
        return backends

    yield make, errors
    for backends in made:
        await backends.aclose()


async def restart(redis_process: Any) -> None:
    await asyncio.to_thread(redis_process.start)
    await asyncio.sleep(BACKOFF_S + 0.05)


async def test_open_policy_limits_locally_then_returns_to_redis(
    redis_process: Any, build: Any
) -> None:
    make, errors = build
    backends = make("open")
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

    await restart(redis_process)  # a fresh, empty server: scripts must be reloaded too
    back = await backends.rate.reserve(limits, 1)
    assert back.allowed and back.reservation.backend == "redis"
    assert back.remaining_requests == 2
    assert errors == ["rate_limit"]


async def test_closed_policy_denies_until_redis_returns(redis_process: Any, build: Any) -> None:
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
    await asyncio.sleep(BACKOFF_S + 0.05)
    assert not await backends.concurrency.acquire("key:c", 5, "lease")
    assert errors == ["rate_limit", "concurrency"]

    await restart(redis_process)
    assert (await backends.rate.reserve(limits, 1)).allowed
    assert await backends.concurrency.acquire("key:c", 5, "lease")


async def test_a_stalled_redis_costs_one_timeout_per_backoff(
    redis_process: Any, build: Any, clients: Any
) -> None:
    make, errors = build
    backends = make("open")
    limits = [Limit("key:s", rpm=100)]
    assert (await backends.rate.reserve(limits, 1)).reservation.backend == "redis"
    admin = await clients(redis_process.url)
    stall = asyncio.create_task(admin.execute_command("DEBUG", "SLEEP", "1"))
    await asyncio.sleep(0.05)

    started = time.perf_counter()
    first = await backends.rate.reserve(limits, 1)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = await backends.rate.reserve(limits, 1)
    second_s = time.perf_counter() - started
    assert first.allowed and first.reservation.backend == "memory"
    assert 0.2 <= first_s < 0.6  # the 0.25 s socket timeout
    assert second.reservation.backend == "memory" and second_s < 0.05  # backing off
    assert errors == ["rate_limit"]
    await stall
    await asyncio.sleep(BACKOFF_S)
    assert (await backends.rate.reserve(limits, 1)).reservation.backend == "redis"


async def test_refused_connections_fail_fast(redis_process: Any, build: Any) -> None:
    make, _ = build
    backends = make("open")
    await asyncio.to_thread(redis_process.kill)
    started = time.perf_counter()
    for _ in range(3):
        assert (await backends.rate.reserve([Limit("key:f", rpm=5)], 1)).allowed
        await asyncio.sleep(BACKOFF_S + 0.01)  # every call tries Redis again
    assert time.perf_counter() - started < 3 * (BACKOFF_S + 0.01) + 0.2
