"""Fixtures for the limits contract suite: each store against memory and against a real Redis.

Redis tests use SWITCHBOARD_TEST_REDIS_URL (default redis://127.0.0.1:6379/0). When nothing
answers there they are skipped locally, and fail in CI (`CI` or SWITCHBOARD_TEST_REQUIRE_SERVICES
set). Every test gets its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchboard.limits import (
    LimitBackends,
    MemoryConcurrencyLimiter,
    MemoryRateLimiter,
    MemorySpendLedger,
    RedisConcurrencyLimiter,
    RedisRateLimiter,
    RedisSpendLedger,
    connect_redis,
)
from switchboard.testing.services import redis_url as test_redis_url
from switchboard.testing.services import require_or_skip

REDIS_URL = test_redis_url()


async def connect(url: str = REDIS_URL, socket_timeout_s: float = 2) -> Redis:
    client = connect_redis(url, socket_timeout_s=socket_timeout_s)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        require_or_skip(f"no Redis at {url}: {exc}")
    return client


async def drop_prefix(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
def prefix() -> str:
    return f"sbtest:limits:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
async def redis_client(prefix: str) -> AsyncIterator[Redis]:
    client = await connect()
    yield client
    await drop_prefix(client, prefix)
    await client.aclose()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., Awaitable[Redis]]]:
    """A factory of extra clients (one per simulated replica), closed after the test."""
    made: list[Redis] = []

    async def make(url: str = REDIS_URL, socket_timeout_s: float = 2) -> Redis:
        client = await connect(url, socket_timeout_s)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def stores(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[LimitBackends]:
    """The three stores of one implementation; `client` is set for Redis."""
    if request.param == "memory":
        yield LimitBackends(MemoryRateLimiter(), MemoryConcurrencyLimiter(), MemorySpendLedger())
        return
    client = await connect()
    yield LimitBackends(
        RedisRateLimiter(client, prefix),
        RedisConcurrencyLimiter(client, prefix),
        RedisSpendLedger(client, prefix),
        client,
    )
    await drop_prefix(client, prefix)
    await client.aclose()
