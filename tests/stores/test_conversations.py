"""The conversation store contract, embedded and on the real Redis: kept per owner."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from switchboard.domain import Message
from switchboard.stores.conversations import ConversationStore, InMemoryConversationStore
from switchboard.stores.redis_conversations import RedisConversationStore, conversation_key

OWNER = "t:acme/k:key1"


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, shared_redis: Redis
) -> AsyncIterator[ConversationStore]:
    if request.param == "memory":
        yield InMemoryConversationStore(max_conversations=4, max_messages=4)
        return
    prefix = f"sbtest:conv:{uuid.uuid4().hex}:"
    yield RedisConversationStore(shared_redis, prefix, max_messages=4, ttl_s=60)
    keys = [k async for k in shared_redis.scan_iter(f"{prefix}*")]
    if keys:
        await shared_redis.delete(*keys)


async def test_history_round_trip_and_trim(store: ConversationStore) -> None:
    assert await store.history(OWNER, "c1") == []
    await store.append(OWNER, "c1", [Message("user", "hi"), Message("assistant", "hello")])
    await store.append(OWNER, "c1", [Message("user", "again"), Message("assistant", "sure")])
    await store.append(OWNER, "c1", [Message("user", "third"), Message("assistant", "ok")])
    history = await store.history(OWNER, "c1")
    assert [m.content for m in history] == ["again", "sure", "third", "ok"]  # last 4 kept
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]


async def test_conversations_are_separate(store: ConversationStore) -> None:
    await store.append(OWNER, "a", [Message("user", "for a")])
    await store.append(OWNER, "b", [Message("user", "for b")])
    assert [m.content for m in await store.history(OWNER, "a")] == ["for a"]
    assert [m.content for m in await store.history(OWNER, "b")] == ["for b"]


async def test_the_same_id_under_two_owners_is_two_conversations(
    store: ConversationStore,
) -> None:
    await store.append("t:acme/k:one", "shared-id", [Message("user", "mine")])
    assert await store.history("t:acme/k:two", "shared-id") == []
    assert await store.history("anonymous", "shared-id") == []
    await store.append("t:acme/k:two", "shared-id", [Message("user", "theirs")])
    assert [m.content for m in await store.history("t:acme/k:one", "shared-id")] == ["mine"]
    assert [m.content for m in await store.history("t:acme/k:two", "shared-id")] == ["theirs"]


async def test_owner_and_id_cannot_be_confused(store: ConversationStore) -> None:
    await store.append("a:b", "c", [Message("user", "first")])
    assert await store.history("a", "b:c") == []
    await store.append("a", "b:c", [Message("user", "second")])
    assert [m.content for m in await store.history("a:b", "c")] == ["first"]


def test_redis_keys_are_unambiguous() -> None:
    assert conversation_key("sb:", "a:b", "c") != conversation_key("sb:", "a", "b:c")
    assert conversation_key("sb:", "t:x/k:y", "c1").startswith("sb:conv:")


async def test_content_parts_survive(store: ConversationStore) -> None:
    parts = [{"type": "text", "text": "look"}]
    await store.append(OWNER, "p", [Message("user", parts)])
    assert (await store.history(OWNER, "p"))[0].content == parts
