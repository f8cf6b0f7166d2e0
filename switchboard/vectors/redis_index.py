"""The distributed vector index: Redis's query engine (FT.* with an HNSW vector field), shared
by every replica, so one replica's cache entry serves them all.

- Each entry is a hash `<prefix><name>:e:<namespace hash>:<id>` holding the vector, the caller's
  id and the namespace as a TAG; a search filters on that tag, so it never crosses namespaces.
  The namespace is hashed (blake2b, 128 bits) so no tenant name needs escaping in a query.
- TTL is Redis's own (PEXPIRE on the hash): the query engine drops an entry when Redis expires it.
- Size bound: a sorted set of entries by insertion time; past `max_entries` the oldest go first
  (as in the embedded index). Expired entries leave it through a second sorted set of deadlines.
  Adding, purging and evicting run in one MULTI, so replicas never over-evict.
- Outages (through the store backbone's guard, kind "vector_index"): `add` and `search` fail
  open (nothing stored, no match: the caller serves a miss), each counted in `failed_open`;
  `remove`, `clear` and `count` raise ServiceNotReady, since an admin must know they did nothing.
  The index definition is created at first use and again after an outage (a restarted server
  has lost it).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from switchboard.embeddings.base import Vectors
from switchboard.errors import ServiceNotReady
from switchboard.stores.backbone import StoreBackbone
from switchboard.stores.guard import Down, StoreGuard
from switchboard.vectors.base import Match, as_rows, entry_rows

log = logging.getLogger(__name__)
T = TypeVar("T")
SCAN_BATCH = 500
ADD_BATCH = 256  # entries written in one MULTI

# KEYS: order, deadlines. ARGV: max entries. Drops expired entries from both sets, then evicts
# the oldest past the bound; returns how many live entries it evicted.
EVICT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', t, 'LIMIT', 0, 1000)
if #dead > 0 then
  redis.call('ZREM', KEYS[1], unpack(dead))
  redis.call('ZREM', KEYS[2], unpack(dead))
end
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
local evicted = 0
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #popped, 2 do
    evicted = evicted + redis.call('DEL', popped[i])
    redis.call('ZREM', KEYS[2], popped[i])
  end
end
return evicted
"""


@dataclass(frozen=True, slots=True)
class RedisIndexOptions:
    """`name` separates indexes sharing one Redis (the cache's, RAG's)."""

    name: str = "vec"
    dimensions: int = 384
    max_entries: int = 100_000
    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 64


def namespace_tag(namespace: str) -> str:
    return hashlib.blake2b(namespace.encode(), digest_size=16).hexdigest()


class RedisVectorIndex:
    """VectorIndex over Redis's query engine; takes its client from the store backbone."""

    def __init__(
        self,
        backbone: StoreBackbone,
        options: RedisIndexOptions | None = None,
        *,
        owns_backbone: bool = False,
    ) -> None:
        self.options = options or RedisIndexOptions()
        self._backbone = backbone if owns_backbone else None
        self.failed_open = 0  # adds skipped and searches answered empty while Redis was down
        self.evictions = 0
        self._client: Redis = backbone.client
        self._guard: StoreGuard = backbone.guard("vector_index")
        self._guard.on_outage(self._forget_definition)
        base = f"{backbone.prefix}{self.options.name}:"
        self.index_name = f"{base}idx"
        self._entries = f"{base}e:"
        self._order = f"{base}order"
        self._deadlines = f"{base}deadlines"
        self._evict = self._client.register_script(EVICT)
        self._defined = False

    # -- the VectorIndex protocol

    async def add(
        self, namespace: str, ids: list[str], vectors: Vectors, ttl_s: float | None = None
    ) -> None:
        """Written `ADD_BATCH` entries to a MULTI, so a large add never holds Redis (or waits
        on one reply) for long; a batch that fails is skipped and counted, the rest go on."""
        rows = entry_rows(ids, vectors, self.options.dimensions)
        tag = namespace_tag(namespace)
        for start in range(0, len(ids), ADD_BATCH):
            batch = partial(
                self._write, tag, ids[start : start + ADD_BATCH], rows[start : start + ADD_BATCH]
            )
            evicted = await self._guard.call(partial(batch, ttl_s))
            if isinstance(evicted, Down):
                self.failed_open += 1
            else:
                self.evictions += evicted

    async def _write(self, tag: str, ids: list[str], rows: Vectors, ttl_s: float | None) -> int:
        await self._define()
        now = await self._now()
        keys = [self._key(tag, entry_id) for entry_id in ids]
        async with self._client.pipeline(transaction=True) as pipe:
            for key, entry_id, row in zip(keys, ids, rows, strict=True):
                pipe.hset(key, mapping={"ns": tag, "id": entry_id, "v": row.tobytes()})
                if ttl_s is None:
                    pipe.persist(key)
                    pipe.zrem(self._deadlines, key)
                else:
                    pipe.pexpire(key, max(1, int(ttl_s * 1000)))
                    pipe.zadd(self._deadlines, {key: now + ttl_s})
            pipe.zadd(self._order, {key: now for key in keys})
            bound = [self.options.max_entries]
            await self._evict(keys=[self._order, self._deadlines], args=bound, client=pipe)
            replies = await pipe.execute()
        return int(replies[-1])

    async def search(self, namespace: str, vector: Vectors, k: int = 1) -> list[Match]:
        query = self._rows(vector)[0]
        if k < 1:
            return []
        found = await self._guard.call(lambda: self._knn(namespace, query, k), idempotent=True)
        if isinstance(found, Down):
            self.failed_open += 1
            return []
        return found

    async def remove(self, namespace: str, ids: list[str]) -> None:
        if not ids:
            return
        keys = [self._key(namespace_tag(namespace), entry_id) for entry_id in ids]

        async def drop() -> None:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(*keys)
                pipe.zrem(self._order, *keys)
                pipe.zrem(self._deadlines, *keys)
                await pipe.execute()

        await self._must(drop)

    async def clear(self, namespace: str | None = None) -> int:
        pattern = self._entries + _glob_escape(
            "" if namespace is None else namespace_tag(namespace) + ":"
        )
        return await self._must(lambda: self._drop_matching(pattern + "*"))

    async def count(self, namespace: str | None = None) -> int:
        query = "*" if namespace is None else f"@ns:{{{namespace_tag(namespace)}}}"

        async def total() -> int:
            await self._define()
            reply = await self._client.execute_command(
                "FT.SEARCH", self.index_name, query, "LIMIT", 0, 0, "DIALECT", 2
            )
            return _total(reply)

        return await self._must(total, idempotent=True)

    async def aclose(self) -> None:
        """Closes the backbone only if it is the index's own (see vectors/build.py)."""
        if self._backbone is not None:
            await self._backbone.aclose()

    # -- internals

    async def _knn(self, namespace: str, query: Vectors, k: int) -> list[Match]:
        await self._define()
        tag = namespace_tag(namespace)
        clause = f"@ns:{{{tag}}}=>[KNN {k} @v $q EF_RUNTIME {self.options.expansion_search} AS d]"
        try:
            reply = await self._client.execute_command(
                "FT.SEARCH", self.index_name, clause, "PARAMS", 2, "q", query.tobytes(),
                "SORTBY", "d", "RETURN", 2, "id", "d", "LIMIT", 0, k, "DIALECT", 2,
            )  # fmt: skip
        except ResponseError as exc:
            if "no such index" not in str(exc).lower():
                raise
            self._defined = False  # dropped behind our back (FLUSHALL): define it again
            return []
        matches = []
        for values in _documents(reply):
            if b"id" in values and b"d" in values:  # an expired hash comes back without fields
                matches.append(Match(values[b"id"].decode(), 1.0 - float(values[b"d"])))
        return matches

    async def _define(self) -> None:
        if self._defined:
            return
        o = self.options
        try:
            await self._client.execute_command(
                "FT.CREATE", self.index_name, "ON", "HASH", "PREFIX", 1, self._entries,
                "SCHEMA", "ns", "TAG", "v", "VECTOR", "HNSW", 10, "TYPE", "FLOAT32",
                "DIM", o.dimensions, "DISTANCE_METRIC", "COSINE", "M", o.connectivity,
                "EF_CONSTRUCTION", o.expansion_add,
            )  # fmt: skip
        except ResponseError as exc:
            if "already exists" not in str(exc).lower():
                raise
        self._defined = True

    async def _now(self) -> float:
        seconds, micros = await self._client.time()
        return float(seconds) + micros / 1e6

    async def _drop_matching(self, pattern: str) -> int:
        dropped = 0
        async for batch in _batches(self._client.scan_iter(match=pattern, count=SCAN_BATCH)):
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.delete(*batch)
                pipe.zrem(self._order, *batch)
                pipe.zrem(self._deadlines, *batch)
                replies = await pipe.execute()
            dropped += int(replies[0])
        return dropped

    async def _must(self, op: Callable[[], Awaitable[T]], *, idempotent: bool = False) -> T:
        result = await self._guard.call(op, idempotent=idempotent)
        if isinstance(result, Down):
            raise ServiceNotReady("the vector store (Redis) is unreachable", retry_after=2)
        return result

    def _forget_definition(self) -> None:
        self._defined = False

    def _key(self, tag: str, entry_id: str) -> str:
        return f"{self._entries}{tag}:{entry_id}"

    def _rows(self, vectors: Vectors) -> Vectors:
        return as_rows(vectors, self.options.dimensions)


def _total(reply: object) -> int:
    """FT.SEARCH's result count, from a RESP3 map or a RESP2 array."""
    if isinstance(reply, dict):
        return int(reply[b"total_results"])
    assert isinstance(reply, list)
    return int(reply[0])


def _documents(reply: object) -> list[dict[bytes, bytes]]:
    """FT.SEARCH's returned fields per document, from a RESP3 map or a RESP2 array."""
    if isinstance(reply, dict):
        return [doc.get(b"extra_attributes", {}) for doc in reply[b"results"]]
    assert isinstance(reply, list)
    return [dict(zip(f[::2], f[1::2], strict=True)) for f in reply[2::2]]


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


async def _batches(keys: AsyncIterator[bytes]) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    async for key in keys:
        batch.append(key)
        if len(batch) >= SCAN_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
