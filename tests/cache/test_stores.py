"""The reply stores: the in-process one (TTL, eviction, scopes) and the Redis one (real Redis,
own prefix), by the same contract; a hit never extends an entry's life."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from switchboard.cache.redis_store import GuardedReplyStore
from switchboard.cache.store import InMemoryReplyStore, ReplyStore
from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.testing.processes import RedisProcess
from switchboard.testing.services import require_or_skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _redis_backbone(url: str, errors: list[str] | None = None) -> StoreBackbone:
    options = RedisOptions(url=url, prefix=f"sbtest-cache:{uuid.uuid4().hex}:", backoff_s=0.2)
    sink = errors if errors is not None else []
    return StoreBackbone(options, sink.append)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ReplyStore]:
    if request.param == "memory":
        yield InMemoryReplyStore(100, 1 << 20)
        return
    backbone = await _redis_backbone("redis://127.0.0.1:6379/0")
    if not await backbone.ping():
        await backbone.aclose()
        require_or_skip("Redis not reachable at 127.0.0.1:6379")
    s = GuardedReplyStore.on(backbone)
    yield s
    await s.clear()
    await backbone.aclose()


async def test_put_get_and_scopes(store: ReplyStore) -> None:
    await store.put("tenant:a", "m", "k1", b"one", 60)
    await store.put("tenant:b", "m", "k1", b"two", 60)
    await store.put("tenant:a", "n", "k1", b"three", 60)
    assert await store.get("tenant:a", "m", "k1") == b"one"
    assert await store.get("tenant:b", "m", "k1") == b"two"
    assert await store.get("tenant:c", "m", "k1") is None
    assert await store.count() == 3
    assert await store.clear(scope="tenant:a") == 2
    assert await store.get("tenant:a", "n", "k1") is None
    assert await store.get("tenant:b", "m", "k1") == b"two"
    await store.put("tenant:a", "m", "k2", b"x", 60)
    assert await store.clear(model="m") == 2
    assert await store.count() == 0


async def test_names_with_glob_characters_do_not_leak(store: ReplyStore) -> None:
    await store.put("tenant:a*", "m", "k", b"star", 60)
    await store.put("tenant:ab", "m", "k", b"plain", 60)
    assert await store.clear(scope="tenant:a*") == 1
    assert await store.get("tenant:ab", "m", "k") == b"plain"


async def test_redis_entries_expire_and_a_hit_does_not_extend_them(store: ReplyStore) -> None:
    await store.put("tenant:a", "m", "short", b"v", 0.3)
    for _ in range(3):
        await asyncio.sleep(0.08)
        assert await store.get("tenant:a", "m", "short") == b"v"  # hits along the way
    await asyncio.sleep(0.15)
    assert await store.get("tenant:a", "m", "short") is None


async def test_memory_ttl_on_its_clock() -> None:
    clock = Clock()
    store = InMemoryReplyStore(10, 1 << 20, clock=clock)
    await store.put("s", "m", "k", b"v", 60)
    clock.now += 59
    assert await store.get("s", "m", "k") == b"v"
    clock.now += 1
    assert await store.get("s", "m", "k") is None
    assert len(store) == 0


async def test_memory_evicts_least_recently_used_by_count_and_bytes() -> None:
    evicted: list[int] = []
    store = InMemoryReplyStore(3, 1000, on_evict=evicted.append)
    for k in ("a", "b", "c"):
        await store.put("s", "m", k, b"v", 60)
    assert await store.get("s", "m", "a") == b"v"  # a is now the most recently used
    await store.put("s", "m", "d", b"v", 60)
    assert await store.get("s", "m", "b") is None and await store.get("s", "m", "a") == b"v"
    await store.put("s", "m", "big", b"x" * 1000, 60)  # the byte bound drops the rest
    assert len(store) == 1 and store.evictions == 4 and sum(evicted) == 4


async def test_redis_down_lookups_miss_writes_skip_and_it_is_counted(
    redis_process: RedisProcess,
) -> None:
    errors: list[str] = []
    backbone = await _redis_backbone(f"redis://127.0.0.1:{redis_process.port}/0", errors)
    store = GuardedReplyStore.on(backbone)
    await store.put("s", "m", "k", b"v", 60)
    assert await store.get("s", "m", "k") == b"v"
    redis_process.kill()
    assert await store.get("s", "m", "k") is None  # fail open: a miss
    await store.put("s", "m", "k2", b"v", 60)  # skipped, no error
    assert errors == ["cache"]
    await backbone.aclose()
