"""The Redis-down policies, with an in-process store standing in for a Redis that fails."""

from __future__ import annotations

from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchboard.limits import (
    Limit,
    MemoryConcurrencyLimiter,
    MemoryRateLimiter,
    MemorySpendLedger,
    build_limit_backends,
)
from switchboard.limits.fallback import (
    FallbackConcurrencyLimiter,
    FallbackRateLimiter,
    FallbackSpendLedger,
    OutageBackoff,
    Policy,
    StoreGuard,
)

T0 = 4_000_000.5


class Flaky:
    """Delegates to `inner`, or raises `error` while it is set (a Redis that is down)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.error: Exception | None = None
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.error is not None:
                raise self.error
            return await method(*args, **kwargs)

        return call


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self, policy: Policy) -> None:
        self.errors: list[str] = []
        self.clock = Clock()
        backoff = OutageBackoff(1.0, self.clock)
        shared_rate = MemoryRateLimiter()
        shared_rate.backend = "shared"  # type: ignore[misc]
        self.shared_rate = Flaky(shared_rate)
        self.shared_slots = Flaky(MemoryConcurrencyLimiter())
        self.shared_spend = Flaky(MemorySpendLedger())
        self.rate = FallbackRateLimiter(
            self.shared_rate, MemoryRateLimiter(), self.guard("rate_limit", backoff), policy
        )
        self.slots = FallbackConcurrencyLimiter(
            self.shared_slots,
            MemoryConcurrencyLimiter(),
            self.guard("concurrency", backoff),
            policy,
        )
        self.spend = FallbackSpendLedger(
            self.shared_spend, MemorySpendLedger(), self.guard("spend", backoff), policy
        )

    def guard(self, kind: str, backoff: OutageBackoff) -> StoreGuard:
        return StoreGuard(kind, backoff, self.errors.append)

    def down(self, error: Exception | None = None) -> None:
        error = error or RedisConnectionError("Connection refused")
        for store in (self.shared_rate, self.shared_slots, self.shared_spend):
            store.error = error

    def up(self) -> None:
        for store in (self.shared_rate, self.shared_slots, self.shared_spend):
            store.error = None
        self.clock.now += 1.5  # past the back-off


@pytest.fixture
def open_policy() -> Harness:
    return Harness("open")


@pytest.fixture
def closed_policy() -> Harness:
    return Harness("closed")


async def test_open_limits_locally_and_reports_once(open_policy: Harness) -> None:
    h = open_policy
    limits = [Limit("key:a", rpm=3)]
    assert (await h.rate.reserve(limits, 1, now=T0)).reservation.backend == "shared"  # type: ignore[union-attr]
    h.down()
    decisions = [await h.rate.reserve(limits, 1, now=T0) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert all(d.reservation.backend == "memory" for d in decisions[:3])  # type: ignore[union-attr]
    assert h.errors == ["rate_limit"] and h.shared_rate.calls == 2  # back-off skips Redis
    h.up()
    again = await h.rate.reserve(limits, 1, now=T0)
    assert again.allowed and again.remaining_requests == 1  # Redis's own count: 2 of 3
    assert h.shared_rate.calls == 3


async def test_closed_denies_as_unavailable(closed_policy: Harness) -> None:
    h = closed_policy
    h.down()
    decision = await h.rate.reserve([Limit("key:a", rpm=3)], 1, now=T0)
    assert not decision.allowed and decision.unavailable and decision.retry_after_s == 2.0
    assert not await h.slots.acquire("key:a", 3, "lease")
    spend = await h.spend.reserve("key:a", "total", 1, 100)
    assert not spend.allowed and spend.unavailable
    assert h.errors == ["rate_limit"]  # the others were skipped during the back-off
    h.up()
    assert (await h.rate.reserve([Limit("key:a", rpm=3)], 1, now=T0)).allowed


async def test_rate_settle_goes_where_the_reservation_was_made(open_policy: Harness) -> None:
    h = open_policy
    limits = [Limit("key:s", tpm=1000)]
    shared = await h.rate.reserve(limits, 500, now=T0)
    h.down()
    local = await h.rate.reserve(limits, 500, now=T0)
    assert shared.reservation and local.reservation
    await h.rate.settle(local.reservation, 100)
    await h.rate.settle(shared.reservation, 100)  # dropped: Redis is down
    assert (await h.rate.reserve(limits, 0, now=T0)).remaining_tokens == 900
    h.up()
    assert (await h.rate.reserve(limits, 0, now=T0)).remaining_tokens == 500


async def test_releases_are_replayed_when_redis_returns(open_policy: Harness) -> None:
    h = open_policy
    assert await h.slots.acquire("key:c", 1, "shared-lease")
    h.down()
    assert await h.slots.acquire("key:c", 1, "local-lease")  # local slots start empty
    assert not await h.slots.acquire("key:c", 1, "another")
    await h.slots.release("key:c", "local-lease")
    await h.slots.release("key:c", "shared-lease")  # queued
    assert await h.slots.acquire("key:c", 1, "another")
    h.up()
    assert await h.slots.acquire("key:c", 1, "after")  # the queued release ran first
    assert not await h.slots.acquire("key:c", 1, "one-more")


async def test_budget_fallback_starts_from_last_known_spend(open_policy: Harness) -> None:
    h = open_policy
    await h.spend.seed("key:b", "total", 800)
    assert (await h.spend.reserve("key:b", "total", 100, 1000)).allowed
    await h.spend.settle("key:b", "total", 100, 100)
    assert await h.spend.spent("key:b", "total") == 900
    h.down()
    assert not (await h.spend.reserve("key:b", "total", 200, 1000)).allowed
    assert (await h.spend.reserve("key:b", "total", 60, 1000)).allowed
    assert await h.spend.spent("key:b", "total") == 900


async def test_spend_settlements_are_replayed(open_policy: Harness) -> None:
    h = open_policy
    await h.spend.seed("key:r", "total", 0)
    assert (await h.spend.reserve("key:r", "total", 300, 1000)).allowed  # in Redis
    h.down()
    assert (await h.spend.reserve("key:r", "total", 200, 1000)).allowed  # locally
    await h.spend.settle("key:r", "total", 300, 250)  # Redis's: queued
    await h.spend.settle("key:r", "total", 200, 150)  # local: settled here, spend queued
    h.up()
    decision = await h.spend.reserve("key:r", "total", 1, 1000)  # replays first
    assert (decision.spent_micro, decision.reserved_micro) == (400, 1)
    assert await h.spend.spent("key:r", "total") == 400


async def test_a_timed_out_settlement_is_not_replayed(open_policy: Harness) -> None:
    h = open_policy
    assert (await h.spend.reserve("key:t", "total", 300, 1000)).allowed
    h.down(RedisTimeoutError("Timeout reading from socket"))
    await h.spend.settle("key:t", "total", 300, 250)  # sent: Redis most likely applied it
    h.up()
    await h.spend.reserve("key:t", "total", 1, 1000)
    assert await h.spend.spent("key:t", "total") == 0  # our stand-in did not; nothing replayed
    assert h.errors == ["spend"]


async def test_seed_while_down_seeds_locally(open_policy: Harness) -> None:
    h = open_policy
    h.down()
    assert not (await h.spend.reserve("key:s", "total", 1, 1000)).seeded
    assert await h.spend.seed("key:s", "total", 990)
    assert not (await h.spend.reserve("key:s", "total", 20, 1000)).allowed


async def test_no_redis_url_means_in_process_stores() -> None:
    backends = build_limit_backends(None, "sb:", "open", lambda kind: None)
    assert isinstance(backends.rate, MemoryRateLimiter)
    assert isinstance(backends.concurrency, MemoryConcurrencyLimiter)
    assert isinstance(backends.spend, MemorySpendLedger)
    await backends.aclose()
