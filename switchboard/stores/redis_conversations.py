"""Conversation history in Redis, so a conversation continues on whichever replica it lands."""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from switchboard.domain import Message


class RedisConversationStore:
    """One list per conversation, trimmed to `max_messages`, expiring `ttl_s` after last use."""

    def __init__(self, client: Redis, prefix: str, max_messages: int, ttl_s: int) -> None:
        self._client = client
        self._prefix = f"{prefix}conv:"
        self._max = max_messages
        self._ttl = ttl_s

    async def history(self, conversation_id: str) -> list[Message]:
        raw = await self._client.lrange(self._prefix + conversation_id, 0, -1)
        out = []
        for item in raw:
            data = orjson.loads(item)
            out.append(Message(data["role"], data.get("content"), data.get("name")))
        return out

    async def append(self, conversation_id: str, messages: list[Message]) -> None:
        key = self._prefix + conversation_id
        payload = [
            orjson.dumps({"role": m.role, "content": m.content, "name": m.name}) for m in messages
        ]
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *payload)
            pipe.ltrim(key, -self._max, -1)
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def aclose(self) -> None:
        await self._client.aclose()
