"""Stored Responses in Redis, so a response can be read or continued on any replica.

`GuardedResponseStore` puts the store behind the backbone's outage policy. A stored response is
a caller's data, so a read that cannot reach Redis is never answered "not found": it is a 503,
under either policy. A write that cannot reach Redis is skipped under "open" (the reply is
served; the response cannot be fetched or continued later) and a 503 under "closed".
"""

from __future__ import annotations

from redis.asyncio import Redis

from switchboard.errors import ServiceNotReady
from switchboard.stores.backbone import Policy, StoreBackbone
from switchboard.stores.guard import Down, StoreGuard
from switchboard.stores.responses import ResponseStore, StoredResponse

RETRY_AFTER_S = 2


def response_key(prefix: str, owner: str, response_id: str) -> str:
    """`<prefix>resp:<len(owner)>:<owner>:<id>`: the length makes (owner, id) unambiguous."""
    return f"{prefix}resp:{len(owner)}:{owner}:{response_id}"


class RedisResponseStore:
    """One string per response, expiring `ttl_s` after it was stored."""

    def __init__(self, client: Redis, prefix: str, ttl_s: int) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl = ttl_s

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        raw = await self._client.get(response_key(self._prefix, owner, response_id))
        return None if raw is None else StoredResponse.loads(raw)

    async def put(self, owner: str, stored: StoredResponse) -> None:
        key = response_key(self._prefix, owner, stored.id)
        await self._client.set(key, stored.dumps(), ex=self._ttl)

    async def delete(self, owner: str, response_id: str) -> bool:
        return bool(await self._client.delete(response_key(self._prefix, owner, response_id)))

    async def aclose(self) -> None:
        """The client belongs to whoever made it (the store backbone)."""


class GuardedResponseStore:
    """A response store behind an outage policy: see the module docstring. Every call may be
    repeated (a GET, a SET of the same value, a DEL), so a merely slow one is tried again."""

    def __init__(self, store: ResponseStore, guard: StoreGuard, policy: Policy) -> None:
        self._store = store
        self._guard = guard
        self._policy = policy

    @classmethod
    def on(cls, backbone: StoreBackbone, ttl_s: int) -> GuardedResponseStore:
        store = RedisResponseStore(backbone.client, backbone.prefix, ttl_s)
        return cls(store, backbone.guard("responses"), backbone.policy)

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        found = await self._guard.call(lambda: self._store.get(owner, response_id), idempotent=True)
        if isinstance(found, Down):
            raise _unavailable()
        return found

    async def put(self, owner: str, stored: StoredResponse) -> None:
        done = await self._guard.call(lambda: self._store.put(owner, stored), idempotent=True)
        if isinstance(done, Down) and self._policy == "closed":
            raise _unavailable()

    async def delete(self, owner: str, response_id: str) -> bool:
        done = await self._guard.call(
            lambda: self._store.delete(owner, response_id), idempotent=True
        )
        if isinstance(done, Down):
            raise _unavailable()
        return done

    async def aclose(self) -> None:
        await self._store.aclose()


def _unavailable() -> ServiceNotReady:
    return ServiceNotReady(
        "Response store unavailable; try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
