"""Fixtures for the limits contract suite: each store against memory and against a real Redis.

Redis tests use SWITCHBOARD_TEST_REDIS_URL (default redis://127.0.0.1:6379/0) and are skipped
when nothing answers there. Every test gets its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

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

REDIS_URL = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def connect(url: str = REDIS_URL, socket_timeout_s: float = 2) -> Redis:
    client = connect_redis(url, socket_timeout_s=socket_timeout_s)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        pytest.skip(f"no Redis at {url}: {exc}")
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A throwaway redis-server on its own port that tests may kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--save", "", "--appendonly", "no", "--daemonize", "no"]
        args += ["--bind", "127.0.0.1", "--enable-debug-command", "local"]
        self._proc = subprocess.Popen(
            ["redis-server", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisProcess()
    server.start()
    yield server
    server.kill()
