"""L3: the embedding cache in front of the real MiniLM, in process and shared through Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import numpy as np
import pytest

from switchboard.embeddings.base import Vectors
from switchboard.embeddings.cached import CachedEmbedder, RedisEmbeddingStore
from switchboard.embeddings.local import LocalEmbedder
from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.testing.processes import RedisProcess
from switchboard.testing.services import accepts_connections, redis_url, require_or_skip


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: LocalEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.name = inner.name
        self.dimensions = inner.dimensions

    async def embed(self, texts: list[str]) -> Vectors:
        self.texts += texts
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        """The session's embedder is closed by its fixture."""


@pytest.fixture
async def backbone() -> AsyncIterator[StoreBackbone]:
    if not accepts_connections(redis_url()):
        require_or_skip(f"no Redis at {redis_url()}")
    errors: list[str] = []
    options = RedisOptions(url=redis_url(), prefix=f"sbtest-emb-{uuid.uuid4().hex[:8]}:")
    made = StoreBackbone(options, errors.append)
    yield made
    keys = [key async for key in made.client.scan_iter(match=options.prefix + "*")]
    if keys:
        await made.client.delete(*keys)
    await made.aclose()


async def test_a_text_seen_before_costs_a_lookup(local_embedder: LocalEmbedder) -> None:
    inner = Counting(local_embedder)
    cached = CachedEmbedder(inner, max_entries=100)
    first = await cached.embed(["alpha question", "beta question", "alpha question"])
    assert inner.texts == ["alpha question", "beta question"]  # the repeat embedded once
    np.testing.assert_array_equal(first[0], first[2])
    again = await cached.embed(["beta question", "alpha question"])
    assert inner.texts == ["alpha question", "beta question"]  # nothing new asked
    np.testing.assert_array_equal(again, first[[1, 0]])
    assert (cached.hits, cached.misses) == (3, 2)
    again[0] = 0  # the caller's array is its own
    np.testing.assert_array_equal((await cached.embed(["beta question"]))[0], first[1])


async def test_the_lru_keeps_the_recent_texts(local_embedder: LocalEmbedder) -> None:
    inner = Counting(local_embedder)
    cached = CachedEmbedder(inner, max_entries=2)
    await cached.embed(["one"])
    await cached.embed(["two"])
    await cached.embed(["one"])  # refreshes "one": "two" is now the oldest
    await cached.embed(["three"])
    await cached.embed(["one", "two"])
    assert inner.texts == ["one", "two", "three", "two"]


async def test_replicas_share_embeddings_through_redis(
    local_embedder: LocalEmbedder, backbone: StoreBackbone
) -> None:
    first_inner, second_inner = Counting(local_embedder), Counting(local_embedder)
    shared = RedisEmbeddingStore(backbone, ttl_s=60, dimensions=384)
    first = CachedEmbedder(first_inner, shared=shared)
    second = CachedEmbedder(second_inner, shared=RedisEmbeddingStore(backbone, 60, 384))
    vectors = await first.embed(["shared text", "only first"])
    again = await second.embed(["shared text"])
    assert second_inner.texts == []  # the other replica's embedding, read from Redis
    np.testing.assert_array_equal(again[0], vectors[0])


async def test_a_redis_outage_falls_back_to_the_model(local_embedder: LocalEmbedder) -> None:
    server = RedisProcess()
    server.start()
    errors: list[str] = []
    down = StoreBackbone(RedisOptions(url=server.url, prefix="sbtest-emb:"), errors.append)
    try:
        inner = Counting(local_embedder)
        cached = CachedEmbedder(inner, shared=RedisEmbeddingStore(down, 60, 384))
        server.kill()
        vectors = await cached.embed(["while redis is down"])
        assert vectors.shape == (1, 384) and inner.texts == ["while redis is down"]
        assert errors == ["embedding_cache"]
    finally:
        server.kill()
        await down.aclose()
