"""The SpendLedger contract, run against the memory and the Redis implementation."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.limits import LimitBackends, period_ttl_s


async def test_reserve_within_budget_then_exceeded(stores: LimitBackends) -> None:
    ledger = stores.spend
    first = await ledger.reserve("key:a", "total", 600, 1000)
    assert (first.allowed, first.spent_micro, first.reserved_micro) == (True, 0, 600)
    second = await ledger.reserve("key:a", "total", 500, 1000)
    assert (second.allowed, second.spent_micro, second.reserved_micro) == (False, 0, 600)
    assert (await ledger.reserve("key:a", "total", 400, 1000)).allowed


async def test_settle_moves_reserved_to_spent(stores: LimitBackends) -> None:
    ledger = stores.spend
    await ledger.reserve("key:s", "d:2026-11-27", 600, 1000)
    await ledger.settle("key:s", "d:2026-11-27", 600, 250)
    assert await ledger.spent("key:s", "d:2026-11-27") == 250
    decision = await ledger.reserve("key:s", "d:2026-11-27", 750, 1000)
    assert (decision.allowed, decision.spent_micro, decision.reserved_micro) == (True, 250, 750)
    assert not (await ledger.reserve("key:s", "d:2026-11-27", 1, 1000)).allowed


async def test_settle_more_than_reserved(stores: LimitBackends) -> None:
    ledger = stores.spend
    await ledger.reserve("key:m", "m:2026-11", 100, 1000)
    await ledger.settle("key:m", "m:2026-11", 300, 1200)  # reserved never goes below 0
    decision = await ledger.reserve("key:m", "m:2026-11", 0, 10_000)
    assert (decision.spent_micro, decision.reserved_micro) == (1200, 0)
    assert not (await ledger.reserve("key:m", "m:2026-11", 0, 1000)).allowed


async def test_periods_and_scopes_are_separate(stores: LimitBackends) -> None:
    ledger = stores.spend
    await ledger.reserve("key:p", "d:2026-11-27", 900, 1000)
    await ledger.settle("key:p", "d:2026-11-27", 900, 900)
    assert (await ledger.reserve("key:p", "d:2026-11-28", 900, 1000)).allowed
    assert (await ledger.reserve("tenant:p", "d:2026-11-27", 900, 1000)).allowed
    assert await ledger.spent("key:p", "d:2026-11-28") == 0


async def test_seed_sets_the_baseline_once(stores: LimitBackends) -> None:
    ledger = stores.spend
    assert not (await ledger.reserve("key:seed", "total", 0, 10**9)).seeded
    assert await ledger.seed("key:seed", "total", 5000)
    assert not await ledger.seed("key:seed", "total", 1)
    decision = await ledger.reserve("key:seed", "total", 100, 5050)
    assert decision.seeded and not decision.allowed and decision.spent_micro == 5000
    await ledger.settle("key:seed", "total", 0, 40)
    assert await ledger.spent("key:seed", "total") == 5040


async def test_seed_after_spend_keeps_both(stores: LimitBackends) -> None:
    ledger = stores.spend
    await ledger.reserve("key:late", "total", 100, 1000)
    await ledger.settle("key:late", "total", 100, 70)
    assert await ledger.seed("key:late", "total", 500)
    assert await ledger.spent("key:late", "total") == 570


async def test_concurrent_reservations_never_exceed_budget(stores: LimitBackends) -> None:
    decisions = await asyncio.gather(
        *(stores.spend.reserve("key:c", "total", 10, 255) for _ in range(100))
    )
    assert sum(d.allowed for d in decisions) == 25
    assert max(d.reserved_micro for d in decisions) == 250


async def test_unknown_period_is_rejected(stores: LimitBackends) -> None:
    with pytest.raises(ValueError):
        await stores.spend.reserve("key:x", "weekly", 1, 10)


def test_period_ttls() -> None:
    assert period_ttl_s("total") is None
    assert period_ttl_s("d:2026-11-27") == 3 * 86_400
    assert period_ttl_s("m:2026-11") == 40 * 86_400
