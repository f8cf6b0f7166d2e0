"""The Redis index's own promises: replicas share it, and an outage serves misses."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from switchboard.errors import ServiceNotReady
from switchboard.testing.processes import RedisProcess
from switchboard.testing.vector_redis import vector_redis_process
from switchboard.vectors.redis_index import RedisVectorIndex
from tests.vectors.conftest import Factory, near, unit


@pytest.fixture
def own_vector_redis(vector_redis: RedisProcess) -> Iterator[RedisProcess]:
    """A vector Redis this test may kill and restart (the session's one must stay up)."""
    server = vector_redis_process()
    server.start()
    yield server
    server.kill()


async def test_two_replicas_share_one_index(redis_factory: Factory) -> None:
    prefix = f"sbtest-{uuid.uuid4().hex[:8]}:"
    first, second = redis_factory(prefix=prefix), redis_factory(prefix=prefix)  # two clients
    vector = unit(30)
    await first.add("tenant", ["answer-1"], vector, ttl_s=60)
    found = await second.search("tenant", near(vector, 1))
    assert [m.id for m in found] == ["answer-1"]
    await second.remove("tenant", ["answer-1"])
    assert await first.search("tenant", vector) == []


async def test_an_outage_serves_misses_and_is_counted(
    redis_factory: Factory, own_vector_redis: RedisProcess
) -> None:
    index = redis_factory(url=own_vector_redis.url)
    assert isinstance(index, RedisVectorIndex)
    vector = unit(31)
    await index.add("t", ["kept"], vector)
    own_vector_redis.kill()
    assert await index.search("t", vector) == []  # fails open: a miss, not an error
    await index.add("t", ["lost"], unit(32))  # nothing stored, nothing raised
    assert index.failed_open == 2
    assert redis_factory.errors == ["vector_index"]  # type: ignore[attr-defined]
    with pytest.raises(ServiceNotReady):
        await index.count("t")
    own_vector_redis.start()  # an empty server: the index definition must come back
    await asyncio.sleep(0.3)  # past the outage back-off
    assert await index.search("t", vector) == []
    await index.add("t", ["after"], vector)
    assert [m.id for m in await index.search("t", vector)] == ["after"]


async def test_evictions_are_counted(redis_factory: Factory) -> None:
    index = redis_factory(max_entries=3)
    assert isinstance(index, RedisVectorIndex)
    await index.add("t", [str(i) for i in range(5)], unit(33, 5))
    assert index.evictions == 2 and await index.count() == 3


async def test_expired_entries_leave_the_eviction_order(redis_factory: Factory) -> None:
    index = redis_factory(max_entries=3)
    vectors = unit(34, 4)
    await index.add("t", ["a", "b"], vectors[:2], ttl_s=0.2)
    await index.add("t", ["c"], vectors[2])
    await asyncio.sleep(0.5)
    await index.add("t", ["d"], vectors[3])  # a and b expired: c must not be evicted
    assert {m.id for m in await index.search("t", vectors[2], k=5)} == {"c", "d"}


async def test_a_large_add_is_written_in_batches(redis_factory: Factory) -> None:
    index = redis_factory(max_entries=10_000)
    vectors = unit(35, 600)  # three MULTIs of at most 256
    await index.add("t", [str(i) for i in range(600)], vectors)
    assert await index.count("t") == 600
    assert (await index.search("t", vectors[599]))[0].id == "599"
