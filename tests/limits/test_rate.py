"""The RateLimiter contract, run against the memory and the Redis implementation."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.limits import Limit, LimitBackends, Reservation

T0 = 1_000_000.25  # a fixed clock: second 1_000_000 leaves the window at 1_000_060


async def admitted(
    stores: LimitBackends, limits: list[Limit], n: int, tokens: int = 1, **kw: float
) -> int:
    decisions = await asyncio.gather(*(stores.rate.reserve(limits, tokens, **kw) for _ in range(n)))
    return sum(d.allowed for d in decisions)


async def test_rpm_admits_exactly_n_of_concurrent(stores: LimitBackends) -> None:
    limits = [Limit("key:a", rpm=60)]
    assert await admitted(stores, limits, 300, now=T0) == 60


async def test_rpm_exact_on_the_real_clock(stores: LimitBackends) -> None:
    limits = [Limit("key:clock", rpm=60)]
    assert await admitted(stores, limits, 300) == 60
    denied = await stores.rate.reserve(limits, 1)
    assert not denied.allowed and 0 < denied.retry_after_s <= 60


async def test_tpm_counts_token_sizes(stores: LimitBackends) -> None:
    limits = [Limit("key:t", tpm=1000)]
    assert await admitted(stores, limits, 10, tokens=300, now=T0) == 3
    assert (await stores.rate.reserve(limits, 100, now=T0)).allowed
    last = await stores.rate.reserve(limits, 1, now=T0)
    assert not last.allowed
    assert last.remaining_tokens == 0 and last.limit_tokens == 1000


async def test_request_larger_than_tpm_is_denied(stores: LimitBackends) -> None:
    decision = await stores.rate.reserve([Limit("key:big", tpm=100)], 101, now=T0)
    assert not decision.allowed and decision.retry_after_s == 60


async def test_all_or_nothing_across_limits(stores: LimitBackends) -> None:
    key, tenant = Limit("key:k", rpm=10), Limit("tenant:t", rpm=2)
    assert await admitted(stores, [key, tenant], 5, now=T0) == 2
    alone = await stores.rate.reserve([key], 1, now=T0)
    assert alone.allowed and alone.remaining_requests == 10 - 3  # the 3 denied counted nothing


async def test_tokens_all_or_nothing(stores: LimitBackends) -> None:
    key, tenant = Limit("key:k", tpm=1000), Limit("tenant:t", tpm=150)
    assert (await stores.rate.reserve([key, tenant], 100, now=T0)).allowed
    assert not (await stores.rate.reserve([key, tenant], 100, now=T0)).allowed
    assert (await stores.rate.reserve([key], 900, now=T0)).allowed


async def test_window_slides_after_60_seconds(stores: LimitBackends) -> None:
    limits = [Limit("key:w", rpm=2)]
    assert await admitted(stores, limits, 3, now=T0) == 2
    assert not (await stores.rate.reserve(limits, 1, now=T0 + 30)).allowed
    assert not (await stores.rate.reserve(limits, 1, now=1_000_059.99)).allowed
    assert await admitted(stores, limits, 3, now=T0 + 61) == 2


async def test_partial_expiry(stores: LimitBackends) -> None:
    limits = [Limit("key:p", rpm=4)]
    assert await admitted(stores, limits, 2, now=T0) == 2
    assert await admitted(stores, limits, 2, now=T0 + 30) == 2
    denied = await stores.rate.reserve(limits, 1, now=T0 + 45)
    assert not denied.allowed
    assert denied.retry_after_s == pytest.approx(1_000_060 - (T0 + 45))
    assert await admitted(stores, limits, 3, now=1_000_060.1) == 2  # only second 0's two left


async def test_retry_after_waits_for_enough_buckets(stores: LimitBackends) -> None:
    limits = [Limit("key:r", rpm=3)]
    for offset in (0, 10, 20):
        assert (await stores.rate.reserve(limits, 1, now=T0 + offset)).allowed
    denied = await stores.rate.reserve(limits, 1, now=T0 + 25)
    assert denied.retry_after_s == pytest.approx(34.75)  # second 1_000_000 leaves at 1_000_060
    assert (await stores.rate.reserve(limits, 1, now=T0 + 25 + denied.retry_after_s)).allowed


async def test_retry_after_for_tokens(stores: LimitBackends) -> None:
    limits = [Limit("key:rt", tpm=100)]
    assert (await stores.rate.reserve(limits, 60, now=T0)).allowed
    assert (await stores.rate.reserve(limits, 30, now=T0 + 10)).allowed
    denied = await stores.rate.reserve(limits, 50, now=T0 + 20)
    assert denied.retry_after_s == pytest.approx(39.75)  # the 60 must go; then 30 + 50 fit


async def test_header_info_from_most_constraining(stores: LimitBackends) -> None:
    key = Limit("key:h", rpm=10, tpm=1000)
    tenant = Limit("tenant:h", rpm=5, tpm=100_000)
    decision = await stores.rate.reserve([key, tenant], 10, now=T0)
    assert decision.allowed and decision.retry_after_s == 0
    assert (decision.limit_requests, decision.remaining_requests) == (5, 4)
    assert (decision.limit_tokens, decision.remaining_tokens) == (1000, 990)
    assert decision.reset_requests_s == pytest.approx(1_000_060 - T0)
    assert decision.reset_tokens_s == pytest.approx(1_000_060 - T0)


async def test_header_info_absent_without_such_limit(stores: LimitBackends) -> None:
    decision = await stores.rate.reserve([Limit("key:n", rpm=5)], 10, now=T0)
    assert decision.limit_tokens is None and decision.remaining_tokens is None
    assert decision.reset_tokens_s is None and decision.remaining_requests == 4


async def test_no_limits_admits(stores: LimitBackends) -> None:
    assert (await stores.rate.reserve([], 10, now=T0)).allowed


async def test_duplicate_scopes_count_once(stores: LimitBackends) -> None:
    limits = [Limit("key:d", rpm=5), Limit("key:d", rpm=3, tpm=50)]
    decision = await stores.rate.reserve(limits, 10, now=T0)
    assert decision.remaining_requests == 2 and decision.remaining_tokens == 40


async def test_settle_down_and_up(stores: LimitBackends) -> None:
    limits = [Limit("key:s", tpm=1000), Limit("tenant:s", tpm=5000)]
    first = await stores.rate.reserve(limits, 500, now=T0)
    assert first.reservation is not None
    await stores.rate.settle(first.reservation, 100)
    assert (await stores.rate.reserve(limits, 900, now=T0 + 1)).remaining_tokens == 0
    assert not (await stores.rate.reserve(limits, 1, now=T0 + 1)).allowed
    later = await stores.rate.reserve(limits, 0, now=T0 + 60)  # the 100 left, the 900 not
    assert later.reservation is not None and later.remaining_tokens == 100
    await stores.rate.settle(later.reservation, 50)  # settles up, from 0 reserved tokens
    assert (await stores.rate.reserve(limits, 0, now=T0 + 60)).remaining_tokens == 50


async def test_settle_is_a_noop_the_second_time(stores: LimitBackends) -> None:
    limits = [Limit("key:twice", tpm=1000)]
    decision = await stores.rate.reserve(limits, 500, now=T0)
    assert decision.reservation is not None
    await stores.rate.settle(decision.reservation, 100)
    await stores.rate.settle(decision.reservation, 100)
    assert (await stores.rate.reserve(limits, 0, now=T0)).remaining_tokens == 900


async def test_settle_never_below_zero(stores: LimitBackends) -> None:
    limits = [Limit("key:z", tpm=1000)]
    decision = await stores.rate.reserve(limits, 100, now=T0)
    assert decision.reservation is not None
    forged = Reservation(decision.reservation.scopes, decision.reservation.second, 800, "any")
    await stores.rate.settle(forged, 0)
    assert (await stores.rate.reserve(limits, 1000, now=T0)).allowed


async def test_settle_after_window_is_dropped(stores: LimitBackends) -> None:
    limits = [Limit("key:late", tpm=1000)]
    decision = await stores.rate.reserve(limits, 10, now=T0)
    assert decision.reservation is not None
    assert (await stores.rate.reserve(limits, 0, now=T0 + 70)).allowed  # prunes second 0
    await stores.rate.settle(decision.reservation, 5000)
    assert (await stores.rate.reserve(limits, 1000, now=T0 + 70)).allowed
