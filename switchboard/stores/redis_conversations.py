"""Conversation history in Redis, so a conversation continues on whichever replica it lands.

`RedisConversationStore` is the plain store. `GuardedConversationStore` puts it behind the
store backbone's outage policy, so a stalled or dead Redis costs a turn at most one socket
timeout (never a hang), is logged and counted (`on_error("conversations")`), and then:

- "open": the turn goes on without memory. `history` answers [] and `append` stores nothing, so
  the user gets an answer that does not remember the conversation (rather than no answer), and
  the exchange is not kept. The conversation id stays valid: once Redis answers again, the
  conversation continues from what was stored before the outage.
- "closed": `ServiceNotReady` (503), as for every other store under that policy. A turn whose
  exchange cannot be stored fails too: the caller learns that it will not be remembered.
"""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from switchboard.domain import Message
from switchboard.errors import ServiceNotReady
from switchboard.stores.backbone import Policy, StoreBackbone
from switchboard.stores.conversations import ConversationStore
from switchboard.stores.guard import Down, StoreGuard

CLOSED_RETRY_AFTER_S = 2


def conversation_key(prefix: str, owner: str, conversation_id: str) -> str:
    """`<prefix>conv:<len(owner)>:<owner>:<id>`: the length makes (owner, id) unambiguous."""
    return f"{prefix}conv:{len(owner)}:{owner}:{conversation_id}"


class RedisConversationStore:
    """One list per conversation, trimmed to `max_messages`, expiring `ttl_s` after last use."""

    def __init__(self, client: Redis, prefix: str, max_messages: int, ttl_s: int) -> None:
        self._client = client
        self._prefix = prefix
        self._max = max_messages
        self._ttl = ttl_s

    async def history(self, owner: str, conversation_id: str) -> list[Message]:
        raw = await self._client.lrange(self._key(owner, conversation_id), 0, -1)
        out = []
        for item in raw:
            data = orjson.loads(item)
            out.append(Message(data["role"], data.get("content"), data.get("name")))
        return out

    async def append(self, owner: str, conversation_id: str, messages: list[Message]) -> None:
        key = self._key(owner, conversation_id)
        payload = [
            orjson.dumps({"role": m.role, "content": m.content, "name": m.name}) for m in messages
        ]
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *payload)
            pipe.ltrim(key, -self._max, -1)
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def aclose(self) -> None:
        """The client belongs to whoever made it (the store backbone)."""

    def _key(self, owner: str, conversation_id: str) -> str:
        return conversation_key(self._prefix, owner, conversation_id)


class GuardedConversationStore:
    """A conversation store behind an outage policy: see the module docstring."""

    def __init__(self, store: ConversationStore, guard: StoreGuard, policy: Policy) -> None:
        self._store = store
        self._guard = guard
        self._policy = policy

    @classmethod
    def on(cls, backbone: StoreBackbone, max_messages: int, ttl_s: int) -> GuardedConversationStore:
        """The Redis store on the backbone's client, prefix and policy."""
        store = RedisConversationStore(backbone.client, backbone.prefix, max_messages, ttl_s)
        return cls(store, backbone.guard("conversations"), backbone.policy)

    async def history(self, owner: str, conversation_id: str) -> list[Message]:
        found = await self._guard.call(lambda: self._store.history(owner, conversation_id))
        if isinstance(found, Down):
            self._refuse_if_closed()
            return []
        return found

    async def append(self, owner: str, conversation_id: str, messages: list[Message]) -> None:
        done = await self._guard.call(lambda: self._store.append(owner, conversation_id, messages))
        if isinstance(done, Down):
            self._refuse_if_closed()

    async def aclose(self) -> None:
        await self._store.aclose()

    def _refuse_if_closed(self) -> None:
        if self._policy == "closed":
            raise ServiceNotReady(
                "Conversation store unavailable; try again shortly.",
                headers={"Retry-After": str(CLOSED_RETRY_AFTER_S)},
            )
