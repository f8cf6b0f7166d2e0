"""One request cannot break the shared store for everyone: huge or fractional counts reach the
scripts as bounded integers, and a script error fails that one call without an outage."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError, DataError, ReadOnlyError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchboard.limits import (
    Limit,
    RedisConcurrencyLimiter,
    RedisRateLimiter,
    RedisSpendLedger,
    limit_backends,
)
from switchboard.limits.types import MAX_TOKENS, bounded_int
from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.stores.guard import is_outage

from .conftest import REDIS_URL


@pytest.mark.parametrize("tokens", [10**17, 1e17, 2.5, float("inf"), float("nan")])
async def test_any_token_count_reaches_the_script_as_an_integer(
    redis_client: Redis, prefix: str, tokens: float
) -> None:
    rate = RedisRateLimiter(redis_client, prefix)
    unlimited = await rate.reserve([Limit("key:big", rpm=100)], tokens)  # type: ignore[arg-type]
    assert unlimited.allowed and unlimited.reservation is not None
    capped = await rate.reserve([Limit("key:tpm", tpm=1000)], tokens)  # type: ignore[arg-type]
    assert not capped.allowed or tokens == 2.5
    await rate.settle(unlimited.reservation, tokens)  # type: ignore[arg-type]
    again = await rate.reserve([Limit("key:big", rpm=100), Limit("key:tpm", tpm=10**6)], 3)
    assert again.allowed and again.remaining_requests == 98


async def test_huge_amounts_reach_the_spend_scripts_as_integers(
    redis_client: Redis, prefix: str
) -> None:
    ledger = RedisSpendLedger(redis_client, prefix)
    assert await ledger.seed("key:s", "total", 1e17)  # type: ignore[arg-type]
    huge = await ledger.reserve("key:s", "total", 10**20, 10**25)
    assert not huge.allowed  # the base alone is at the cap
    await ledger.settle("key:s", "total", 10**20, 1e17)  # type: ignore[arg-type]
    assert await ledger.spent("key:s", "total") == 2 * (2**53 - 1)
    slots = RedisConcurrencyLimiter(redis_client, prefix)
    assert await slots.acquire("key:s", 10**17, "lease", ttl_s=1e17)


def test_bounded_int() -> None:
    assert bounded_int(10**17, MAX_TOKENS) == MAX_TOKENS
    assert bounded_int(2.5, MAX_TOKENS) == 3
    assert bounded_int(-4, MAX_TOKENS) == 0
    assert bounded_int(float("nan"), MAX_TOKENS) == MAX_TOKENS
    assert isinstance(bounded_int(7.0, MAX_TOKENS), int)


async def test_a_script_error_fails_one_call_and_is_not_an_outage(
    redis_client: Redis, prefix: str
) -> None:
    errors: list[str] = []
    backbone = StoreBackbone(RedisOptions(REDIS_URL, prefix, "open"), errors.append)
    backends = limit_backends(backbone)
    await redis_client.set(f"{prefix}rl:key:broken", "not a hash")
    with pytest.raises(ResponseError):
        await backends.rate.reserve([Limit("key:broken", rpm=5)], 1)
    assert errors == []
    other = await backends.rate.reserve([Limit("key:fine", rpm=5)], 1)
    assert other.reservation is not None and other.reservation.backend == "redis"
    await backbone.aclose()


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (RedisConnectionError("refused"), True),
        (RedisTimeoutError("timed out"), True),
        (BusyLoadingError("LOADING Redis is loading the dataset in memory"), True),
        (ReadOnlyError("READONLY You can't write against a read only replica."), True),
        (ResponseError("BUSY Redis is busy running a script."), True),
        (ResponseError("OOM command not allowed when used memory > 'maxmemory'."), True),
        (OSError("network unreachable"), True),
        (ResponseError("ERR value is not an integer or out of range"), False),
        (ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"), False),
        (ResponseError("ERR Error running script: attempt to compare nil with number"), False),
        (DataError("Invalid input of type: 'NoneType'"), False),
    ],
)
def test_what_counts_as_an_outage(error: Exception, outage: bool) -> None:
    assert is_outage(error) is outage
