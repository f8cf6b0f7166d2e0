"""The response store contract, embedded and on the real Redis: kept per owner; and the guarded
store's outage policy (reads never say "not found" while Redis is away)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from redis.asyncio import Redis

from switchboard.domain import Message
from switchboard.errors import ServiceNotReady
from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.stores.redis_responses import (
    GuardedResponseStore,
    RedisResponseStore,
    response_key,
)
from switchboard.stores.responses import InMemoryResponseStore, ResponseStore, StoredResponse
from switchboard.testing.harness import free_port

OWNER = "tenant:acme/key:k1"
CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def stored(response_id: str, text: str = "hello") -> StoredResponse:
    history = [
        Message("user", [{"type": "text", "text": "hi"}]),
        Message("assistant", None, tool_calls=[CALL]),
        Message("tool", "42", tool_call_id="c1"),
        Message("assistant", text),
    ]
    return StoredResponse({"id": response_id, "object": "response", "output": []}, history)


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, shared_redis: Redis
) -> AsyncIterator[ResponseStore]:
    if request.param == "memory":
        yield InMemoryResponseStore(max_count=3, max_bytes=1_000_000)
        return
    prefix = f"sbtest:resp:{uuid.uuid4().hex}:"
    yield RedisResponseStore(shared_redis, prefix, ttl_s=60)
    keys = [k async for k in shared_redis.scan_iter(f"{prefix}*")]
    if keys:
        await shared_redis.delete(*keys)


async def test_round_trip_keeps_the_whole_history(store: ResponseStore) -> None:
    await store.put(OWNER, stored("resp_1"))
    found = await store.get(OWNER, "resp_1")
    assert found is not None and found.response == stored("resp_1").response
    assert found.history == stored("resp_1").history


async def test_round_trip_keeps_the_items(store: ResponseStore) -> None:
    """The conversation as Responses items too (a native deployment's input), and a response
    stored before items were kept reads back with none (it continues translated)."""
    items = [
        {"type": "message", "role": "user", "content": "hi"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"q": "x"}},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA"},
    ]
    with_items = stored("resp_i")
    with_items.items = items
    await store.put(OWNER, with_items)
    found = await store.get(OWNER, "resp_i")
    assert found is not None and found.items == items
    legacy = orjson.loads(stored("resp_l").dumps())
    del legacy["items"]
    assert StoredResponse.loads(orjson.dumps(legacy)).items is None


async def test_responses_belong_to_their_owner(store: ResponseStore) -> None:
    await store.put(OWNER, stored("resp_2"))
    assert await store.get("tenant:acme/key:k2", "resp_2") is None
    assert await store.get("anonymous", "resp_2") is None
    assert not await store.delete("tenant:acme/key:k2", "resp_2")
    assert await store.get(OWNER, "resp_2") is not None


async def test_delete(store: ResponseStore) -> None:
    await store.put(OWNER, stored("resp_3"))
    assert await store.delete(OWNER, "resp_3")
    assert await store.get(OWNER, "resp_3") is None
    assert not await store.delete(OWNER, "resp_3")


async def test_memory_keeps_the_most_recently_used() -> None:
    store = InMemoryResponseStore(max_count=2, max_bytes=1_000_000)
    for n in range(3):
        await store.put(OWNER, stored(f"resp_{n}"))
    assert await store.get(OWNER, "resp_0") is None
    assert await store.get(OWNER, "resp_2") is not None


async def test_memory_is_bounded_in_bytes() -> None:
    size = len(stored("resp_0", "x" * 1000).dumps())
    store = InMemoryResponseStore(max_count=100, max_bytes=2 * size + 10)
    for n in range(3):
        await store.put(OWNER, stored(f"resp_{n}", "x" * 1000))
    assert await store.get(OWNER, "resp_0") is None
    assert await store.get(OWNER, "resp_1") is not None and await store.get(OWNER, "resp_2")
    await store.put(OWNER, stored("resp_2", "x" * 1000))  # replacing does not count twice
    assert await store.get(OWNER, "resp_1") is not None
    await store.put(OWNER, stored("big", "x" * 10 * size))  # larger than the whole budget
    assert await store.get(OWNER, "big") is None


def test_redis_keys_are_unambiguous() -> None:
    assert response_key("sb:", "a:b", "c") != response_key("sb:", "a", "b:c")
    assert response_key("sb:", OWNER, "resp_1").startswith("sb:resp:")


@pytest.mark.parametrize("policy", ["open", "closed"])
async def test_a_dead_redis_is_unavailable_never_not_found(policy: str) -> None:
    options = RedisOptions(
        url=f"redis://127.0.0.1:{free_port()}/0",
        policy=policy,
        socket_timeout_s=0.2,  # type: ignore[arg-type]
    )
    errors: list[str] = []
    backbone = StoreBackbone(options, errors.append)
    store = GuardedResponseStore.on(backbone, ttl_s=60)
    try:
        with pytest.raises(ServiceNotReady):
            await store.get(OWNER, "resp_1")
        with pytest.raises(ServiceNotReady):
            await store.delete(OWNER, "resp_1")
        if policy == "closed":
            with pytest.raises(ServiceNotReady):
                await store.put(OWNER, stored("resp_1"))
        else:
            await store.put(OWNER, stored("resp_1"))  # served, not kept
        assert errors == ["responses"]
    finally:
        await backbone.aclose()
