"""The ConcurrencyLimiter contract, run against the memory and the Redis implementation."""

from __future__ import annotations

import asyncio

from switchboard.limits import LimitBackends

T0 = 2_000_000.0


async def test_acquire_up_to_limit_then_release(stores: LimitBackends) -> None:
    slots = stores.concurrency
    assert await slots.acquire("key:c", 2, "a", now=T0)
    assert await slots.acquire("key:c", 2, "b", now=T0)
    assert not await slots.acquire("key:c", 2, "c", now=T0)
    await slots.release("key:c", "a")
    assert await slots.acquire("key:c", 2, "c", now=T0)
    assert await slots.acquire("key:other", 2, "a", now=T0)  # scopes are separate


async def test_reacquire_of_a_held_lease_takes_no_slot(stores: LimitBackends) -> None:
    slots = stores.concurrency
    assert await slots.acquire("key:r", 1, "a", now=T0)
    assert await slots.acquire("key:r", 1, "a", now=T0 + 1)
    assert not await slots.acquire("key:r", 1, "b", now=T0 + 1)


async def test_release_of_unknown_lease_is_harmless(stores: LimitBackends) -> None:
    await stores.concurrency.release("key:none", "ghost")
    assert await stores.concurrency.acquire("key:none", 1, "a", now=T0)


async def test_leases_expire(stores: LimitBackends) -> None:
    slots = stores.concurrency
    assert await slots.acquire("key:e", 1, "crashed", ttl_s=10, now=T0)
    assert not await slots.acquire("key:e", 1, "b", ttl_s=10, now=T0 + 9.9)
    assert await slots.acquire("key:e", 1, "b", ttl_s=10, now=T0 + 10.1)


async def test_concurrent_acquires_admit_exactly_limit(stores: LimitBackends) -> None:
    grants = await asyncio.gather(
        *(stores.concurrency.acquire("key:g", 7, f"lease-{i}") for i in range(100))
    )
    assert sum(grants) == 7
