"""Fixtures for the store tests: the shared Redis, or a redis-server of the test's own.

A missing Redis skips these tests locally and fails them in CI (see switchboard/testing/services).
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchboard.limits import connect_redis
from switchboard.testing.processes import RedisProcess
from switchboard.testing.services import redis_url, require_or_skip


class Clock:
    """A clock the test moves (for the outage back-off)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def shared_redis() -> AsyncIterator[Redis]:
    client = connect_redis(redis_url(), socket_timeout_s=2)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        require_or_skip(f"no Redis at {redis_url()}: {exc}")
    yield client
    await client.aclose()


@contextmanager
def paused(server: RedisProcess) -> Iterator[None]:
    """SIGSTOP the server: it keeps its connections open and answers nothing until resumed."""
    pid = server._proc.pid  # type: ignore[union-attr]
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
