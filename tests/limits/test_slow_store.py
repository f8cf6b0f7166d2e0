"""A slow Redis or a burst beyond the pool is waited for, not declared down.

Before, a reply later than the 0.25 s socket timeout counted as an outage, so every replica fell
back to limiting locally: one shared limit became one per replica. Now a slow call is an outage
only if a PING of its own fails too, and commands get a reply timeout of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchboard.limits import Limit, limit_backends
from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.stores.guard import (
    MAYBE_APPLIED,
    NOT_SENT,
    SLOW_MAYBE_APPLIED,
    SLOW_NOT_SENT,
    OutageBackoff,
    StoreGuard,
)
from switchboard.testing.processes import RedisProcess

REPLICAS = 3
REQUESTS = 300
STALL_S = 0.5  # twice the old socket timeout, half the reply timeout


def slow_op(exc: Exception) -> Callable[[], Awaitable[None]]:
    async def op() -> None:
        await asyncio.sleep(0)
        raise exc

    return op


class CountingProbe:
    def __init__(self, answers: bool) -> None:
        self.answers = answers
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        await asyncio.sleep(0.01)
        return self.answers


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (RedisTimeoutError("Timeout reading from socket"), SLOW_MAYBE_APPLIED),
        (RedisConnectionError("No connection available."), SLOW_NOT_SENT),
    ],
)
async def test_a_slow_call_is_not_an_outage_while_the_probe_answers(
    exc: Exception, outcome: object
) -> None:
    errors: list[str] = []
    probe = CountingProbe(answers=True)
    backoff = OutageBackoff(1.0, lambda: 0.0, probe)
    guard = StoreGuard("rate_limit", backoff, errors.append)
    results = await asyncio.gather(*(guard.call(slow_op(exc)) for _ in range(10)))
    assert all(result is outcome for result in results)  # this call failed, and only it
    assert errors == [] and not backoff.down and backoff.should_try()
    assert probe.calls == 1  # calls that fail together share one probe


async def test_a_slow_call_is_an_outage_when_the_probe_fails_too() -> None:
    errors: list[str] = []
    backoff = OutageBackoff(1.0, lambda: 0.0, CountingProbe(answers=False))
    guard = StoreGuard("spend", backoff, errors.append)
    assert await guard.call(slow_op(RedisTimeoutError("slow"))) is MAYBE_APPLIED
    assert errors == ["spend"] and backoff.down and not backoff.should_try()


async def test_a_refused_connection_is_an_outage_without_a_probe() -> None:
    errors: list[str] = []
    probe = CountingProbe(answers=True)
    guard = StoreGuard("spend", OutageBackoff(1.0, lambda: 0.0, probe), errors.append)
    assert await guard.call(slow_op(RedisConnectionError("refused"))) is NOT_SENT
    assert errors == ["spend"] and probe.calls == 0


async def test_replicas_share_limits_through_a_stall_and_a_burst_beyond_the_pool(
    redis_process: RedisProcess,
) -> None:
    """300 requests over 3 replicas (8 connections each) while Redis sleeps 0.5 s: exact."""
    errors: list[str] = []
    backbones = [
        StoreBackbone(RedisOptions(redis_process.url, "sb:", max_connections=8), errors.append)
        for _ in range(REPLICAS)
    ]
    replicas = [limit_backends(backbone) for backbone in backbones]
    rpm = [Limit("key:slow", rpm=60)]

    async def request(i: int) -> tuple[bool, bool]:
        backends = replicas[i % REPLICAS]
        rate, spend = await asyncio.gather(
            backends.rate.reserve(rpm, 1),
            backends.spend.reserve("key:slow", "total", 4, 100),  # 25 fit
        )
        return rate.allowed, spend.allowed

    try:
        for backends in replicas:  # scripts loaded, connections open
            await backends.spend.seed("key:slow", "total", 0)
        with redis.Redis.from_url(redis_process.url) as admin:
            stall = asyncio.create_task(
                asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", str(STALL_S))
            )
            await asyncio.sleep(0.05)  # the server is asleep when the burst arrives
            outcomes = await asyncio.gather(*(request(i) for i in range(REQUESTS)))
            await stall
    finally:
        for backbone in backbones:
            await backbone.aclose()
    assert sum(rate for rate, _ in outcomes) == 60
    assert sum(spend for _, spend in outcomes) == 25
    assert errors == []


async def test_an_idempotent_call_is_tried_again_after_a_slow_failure() -> None:
    errors: list[str] = []
    guard = StoreGuard(
        "rate_limit", OutageBackoff(1.0, lambda: 0.0, CountingProbe(True)), errors.append
    )
    tries: list[int] = []

    async def slow_then_fine() -> str:
        tries.append(1)
        if len(tries) == 1:
            raise RedisTimeoutError("Timeout reading from socket")
        return "answer"

    assert await guard.call(slow_then_fine, idempotent=True) == "answer"
    assert len(tries) == 2 and errors == []


async def test_a_retried_reserve_counts_once(
    redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    """The answer of a reserve whose reply was lost is kept for its retry (the same `once`)."""
    from switchboard.limits import RedisRateLimiter, RedisSpendLedger

    rate, spend = RedisRateLimiter(redis_client, prefix), RedisSpendLedger(redis_client, prefix)
    rpm = [Limit("key:once", rpm=2)]
    first = await rate.reserve(rpm, 5, once="a")
    again = await rate.reserve(rpm, 5, once="a")
    assert first.allowed and again.allowed
    assert again.reservation is not None and first.reservation is not None
    assert again.reservation.second == first.reservation.second
    assert again.remaining_requests == 1  # counted once
    assert (await rate.reserve(rpm, 5, once="b")).allowed
    assert not (await rate.reserve(rpm, 5, once="c")).allowed
    assert not (await rate.reserve(rpm, 5, once="c")).allowed  # a denial is kept too

    assert (await spend.reserve("key:once", "total", 6, 10, once="x")).allowed
    repeated = await spend.reserve("key:once", "total", 6, 10, once="x")
    assert repeated.allowed and repeated.reserved_micro == 6
    assert not (await spend.reserve("key:once", "total", 6, 10, once="y")).allowed


async def test_a_call_slow_on_every_try_is_refused_not_limited_locally() -> None:
    """Redis is up (the probe answers): limiting locally would add one replica's overshoot."""
    from switchboard.limits import MemoryRateLimiter, MemorySpendLedger
    from switchboard.limits.fallback import FallbackRateLimiter, FallbackSpendLedger

    class Slow:
        async def reserve(self, *args: object) -> None:
            raise RedisTimeoutError("Timeout reading from socket")

    errors: list[str] = []
    backoff = OutageBackoff(1.0, lambda: 0.0, CountingProbe(answers=True))
    rate = FallbackRateLimiter(
        Slow(),  # type: ignore[arg-type]
        MemoryRateLimiter(),
        StoreGuard("rate_limit", backoff, errors.append),
        "open",
    )
    spend = FallbackSpendLedger(
        Slow(),  # type: ignore[arg-type]
        MemorySpendLedger(),
        StoreGuard("spend", backoff, errors.append),
        "open",
    )
    decision = await rate.reserve([Limit("key:x", rpm=5)], 1)
    assert not decision.allowed and decision.unavailable
    assert (await spend.reserve("key:x", "total", 1, 10)).unavailable
    assert errors == []
