"""A budget hold whose replica dies between reserve and settle is released when it expires.

Before, a "total" budget's reservation that was never settled stayed reserved forever: each
killed replica took a slice of the budget with it.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from switchboard.limits import RedisSpendLedger

HOLD_S = 1  # the shortest hold the script takes (whole seconds); the test waits it out


async def test_a_dead_replicas_hold_is_released_at_its_expiry(
    redis_client: Redis, prefix: str
) -> None:
    dead = RedisSpendLedger(redis_client, prefix, hold_ttl_s=HOLD_S)
    alive = RedisSpendLedger(redis_client, prefix, hold_ttl_s=HOLD_S)
    held = await dead.reserve("key:h", "total", 6, 10)
    assert held.allowed and held.hold  # ...and the replica dies: no settle ever comes
    assert not (await alive.reserve("key:h", "total", 6, 10)).allowed
    await asyncio.sleep(HOLD_S + 0.2)
    after = await alive.reserve("key:h", "total", 6, 10)
    assert after.allowed and after.reserved_micro == 6  # only the live hold


async def test_a_settled_hold_is_not_released_twice(redis_client: Redis, prefix: str) -> None:
    ledger = RedisSpendLedger(redis_client, prefix, hold_ttl_s=HOLD_S)
    first = await ledger.reserve("key:s", "total", 6, 10)
    second = await ledger.reserve("key:s", "total", 3, 10)
    await ledger.settle("key:s", "total", 6, 4, first.hold)
    assert await ledger.spent("key:s", "total") == 4
    await asyncio.sleep(HOLD_S + 0.2)  # `second` expires; `first` was settled already
    decision = await ledger.reserve("key:s", "total", 6, 10)
    assert second.hold and decision.allowed
    assert (decision.spent_micro, decision.reserved_micro) == (4, 6)
    await ledger.settle("key:s", "total", 3, 0, second.hold)  # late: releases nothing more
    assert (await ledger.reserve("key:s", "total", 1, 20)).reserved_micro == 7
