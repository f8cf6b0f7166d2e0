"""The conversation store contract, embedded and on the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from switchboard.domain import Message
from switchboard.stores.conversations import ConversationStore, InMemoryConversationStore
from switchboard.stores.redis_conversations import RedisConversationStore


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ConversationStore]:
    if request.param == "memory":
        yield InMemoryConversationStore(max_conversations=2, max_messages=4)
        return
    prefix = f"sbtest:conv:{uuid.uuid4().hex}:"
    client = Redis.from_url("redis://127.0.0.1:6379/0")
    yield RedisConversationStore(client, prefix, max_messages=4, ttl_s=60)
    keys = [k async for k in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_history_round_trip_and_trim(store: ConversationStore) -> None:
    assert await store.history("c1") == []
    await store.append("c1", [Message("user", "hi"), Message("assistant", "hello")])
    await store.append("c1", [Message("user", "again"), Message("assistant", "sure")])
    await store.append("c1", [Message("user", "third"), Message("assistant", "ok")])
    history = await store.history("c1")
    assert [m.content for m in history] == ["again", "sure", "third", "ok"]  # last 4 kept
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]


async def test_conversations_are_separate(store: ConversationStore) -> None:
    await store.append("a", [Message("user", "for a")])
    await store.append("b", [Message("user", "for b")])
    assert [m.content for m in await store.history("a")] == ["for a"]
    assert [m.content for m in await store.history("b")] == ["for b"]


async def test_content_parts_survive(store: ConversationStore) -> None:
    parts = [{"type": "text", "text": "look"}]
    await store.append("p", [Message("user", parts)])
    assert (await store.history("p"))[0].content == parts
