"""Stored replies in Redis, shared by every replica, expiring by Redis's own TTL.

A cache may always fail open: while Redis is unreachable (the backbone's back-off), a lookup is
a miss and a write is skipped, so requests are served by the model. The outage is logged and
counted once by the backbone (`kind="cache"`). Invalidation, asked for by an operator, says so
instead (503) rather than pretending to have cleared. The size bound is Redis's own
(`maxmemory` with an eviction policy), as for any shared cache.
"""

from __future__ import annotations

import re

from redis.asyncio import Redis

from switchboard.errors import ServiceNotReady
from switchboard.stores.backbone import StoreBackbone
from switchboard.stores.guard import Down, StoreGuard

_GLOB = re.compile(r"([*?\[\]\\])")
SCAN_BATCH = 1000


def _part(text: str) -> str:
    """`<len>:<text>`: the length keeps (scope, model, key) unambiguous whatever they hold."""
    return f"{len(text)}:{text}"


def _glob(text: str) -> str:
    return _GLOB.sub(r"\\\1", text)


class RedisReplyStore:
    """One string per entry under `<prefix>cache:<scope>:<model>:<key>`."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._root = f"{prefix}cache:"

    def key(self, scope: str, model: str, key: str) -> str:
        return f"{self._root}{_part(scope)}:{_part(model)}:{key}"

    async def get(self, scope: str, model: str, key: str) -> bytes | None:
        raw = await self._client.get(self.key(scope, model, key))
        return raw.encode() if isinstance(raw, str) else raw

    async def put(self, scope: str, model: str, key: str, blob: bytes, ttl_s: float) -> None:
        await self._client.set(self.key(scope, model, key), blob, px=max(1, int(ttl_s * 1000)))

    async def delete(self, scope: str, model: str, key: str) -> bool:
        return bool(await self._client.delete(self.key(scope, model, key)))

    def _pattern(self, scope: str | None, model: str | None) -> str:
        s = _glob(_part(scope)) if scope is not None else "*"
        m = _glob(_part(model)) if model is not None else "*"
        return f"{_glob(self._root)}{s}:{m}:*"

    async def clear(self, scope: str | None = None, model: str | None = None) -> int:
        pattern = self._pattern(scope, model)
        dropped = 0
        batch: list[bytes] = []
        async for name in self._client.scan_iter(match=pattern, count=SCAN_BATCH):
            batch.append(name)
            if len(batch) >= SCAN_BATCH:
                dropped += await self._client.unlink(*batch)
                batch = []
        if batch:
            dropped += await self._client.unlink(*batch)
        return dropped

    async def count(self) -> int:
        n = 0
        async for _ in self._client.scan_iter(match=f"{_glob(self._root)}*", count=SCAN_BATCH):
            n += 1
        return n

    async def aclose(self) -> None:
        """The client belongs to the store backbone."""


class GuardedReplyStore:
    """The Redis store behind the backbone's outage handling: lookups and writes fail open."""

    def __init__(self, store: RedisReplyStore, guard: StoreGuard) -> None:
        self._store = store
        self._guard = guard

    @classmethod
    def on(cls, backbone: StoreBackbone) -> GuardedReplyStore:
        return cls(RedisReplyStore(backbone.client, backbone.prefix), backbone.guard("cache"))

    async def get(self, scope: str, model: str, key: str) -> bytes | None:
        found = await self._guard.call(lambda: self._store.get(scope, model, key))
        return None if isinstance(found, Down) else found

    async def put(self, scope: str, model: str, key: str, blob: bytes, ttl_s: float) -> None:
        await self._guard.call(lambda: self._store.put(scope, model, key, blob, ttl_s))

    async def delete(self, scope: str, model: str, key: str) -> bool:
        done = await self._guard.call(lambda: self._store.delete(scope, model, key))
        if isinstance(done, Down):
            raise _unavailable()
        return done

    async def clear(self, scope: str | None = None, model: str | None = None) -> int:
        done = await self._guard.call(lambda: self._store.clear(scope, model))
        if isinstance(done, Down):
            raise _unavailable()
        return done

    async def count(self) -> int:
        done = await self._guard.call(self._store.count)
        if isinstance(done, Down):
            raise _unavailable()
        return done

    async def aclose(self) -> None:
        await self._store.aclose()


def _unavailable() -> ServiceNotReady:
    return ServiceNotReady("Cache store unavailable; try again shortly.", retry_after=2)
