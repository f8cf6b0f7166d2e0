"""L3: an embedding cache in front of any Embedder, keyed by (embedder name, exact text).

Re-embedding a text the gateway has seen costs a dictionary lookup: an in-process LRU first,
then (when configured) Redis, shared by every replica, before the model is asked. Keys are a
128-bit blake2b of the name and the text, so long texts cost no memory as keys. A Redis outage
is an L3 miss (the model is asked), counted by the store backbone's guard.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from switchboard.embeddings.base import Embedder, Vectors
from switchboard.stores.backbone import StoreBackbone
from switchboard.stores.guard import Down


def text_key(name: str, text: str) -> bytes:
    return hashlib.blake2b(f"{name}\0{text}".encode(), digest_size=16).digest()


class RedisEmbeddingStore:
    """Vectors as float32 bytes under `<prefix>emb:<hex key>`, expiring after `ttl_s`."""

    def __init__(self, backbone: StoreBackbone, ttl_s: int, dimensions: int) -> None:
        self._client = backbone.client
        self._guard = backbone.guard("embedding_cache")
        self._prefix = f"{backbone.prefix}emb:"
        self._ttl_s = ttl_s
        self._dimensions = dimensions

    async def get_many(self, keys: list[bytes]) -> list[Vectors | None]:
        names = [self._prefix + key.hex() for key in keys]
        found = await self._guard.call(lambda: self._client.mget(names), idempotent=True)
        if isinstance(found, Down):
            return [None] * len(keys)
        return [None if raw is None else self._vector(raw) for raw in found]

    async def set_many(self, items: dict[bytes, Vectors]) -> None:
        async def write() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, vector in items.items():
                    pipe.set(self._prefix + key.hex(), vector.tobytes(), ex=self._ttl_s)
                await pipe.execute()

        await self._guard.call(write)

    def _vector(self, raw: bytes | str) -> Vectors | None:
        if not isinstance(raw, bytes):
            return None  # not ours: this client reads bytes
        vector = np.frombuffer(raw, dtype=np.float32)
        return vector if vector.shape == (self._dimensions,) else None


class CachedEmbedder:
    """An Embedder that asks `inner` only for texts neither cache holds."""

    def __init__(
        self, inner: Embedder, max_entries: int = 10_000, shared: RedisEmbeddingStore | None = None
    ) -> None:
        self.inner = inner
        self.hits = 0  # texts answered without the inner embedder (a cache, or a repeat)
        self.misses = 0  # distinct texts the inner embedder had to embed
        self._max = max_entries
        self._lru: OrderedDict[bytes, Vectors] = OrderedDict()
        self._shared = shared

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    async def embed(self, texts: list[str]) -> Vectors:
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        wanted: dict[bytes, list[int]] = {}
        originals: dict[bytes, str] = {}
        for i, text in enumerate(texts):
            key = text_key(self.name, text)
            vector = self._recall(key)
            if vector is None:
                wanted.setdefault(key, []).append(i)
                originals[key] = text
            else:
                out[i] = vector
        if wanted and self._shared is not None:
            keys = list(wanted)
            for key, vector in zip(keys, await self._shared.get_many(keys), strict=True):
                if vector is not None:
                    self._remember(key, vector)
                    out[wanted.pop(key)] = vector
        if wanted:
            keys = list(wanted)
            fresh = await self.inner.embed([originals[key] for key in keys])
            for key, vector in zip(keys, fresh, strict=True):
                self._remember(key, vector)
                out[wanted[key]] = vector
            if self._shared is not None:
                await self._shared.set_many(dict(zip(keys, fresh, strict=True)))
        self.misses += len(wanted)
        self.hits += len(texts) - len(wanted)
        return out

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _recall(self, key: bytes) -> Vectors | None:
        vector = self._lru.get(key)
        if vector is not None:
            self._lru.move_to_end(key)
        return vector

    def _remember(self, key: bytes, vector: Vectors) -> None:
        if self._max <= 0:
            return
        self._lru[key] = np.array(vector, dtype=np.float32)  # a copy: callers may write to theirs
        self._lru.move_to_end(key)
        while len(self._lru) > self._max:
            self._lru.popitem(last=False)
