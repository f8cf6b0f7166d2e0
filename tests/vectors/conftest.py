"""The vector index implementations the contract suite runs against, and helpers for them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.testing.processes import RedisProcess
from switchboard.vectors.base import VectorIndex
from switchboard.vectors.hnsw import HnswIndex, HnswOptions
from switchboard.vectors.redis_index import RedisIndexOptions, RedisVectorIndex

DIM = 384
Factory = Callable[..., VectorIndex]


def unit(seed: int, n: int = 1) -> np.ndarray:
    """`n` random unit vectors, the same for the same seed."""
    rows = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def near(vector: np.ndarray, seed: int, noise: float = 0.05) -> np.ndarray:
    """A unit vector close to `vector` (cosine ~0.8 and up for the default noise)."""
    other = vector + noise * np.random.default_rng(seed).standard_normal(vector.shape)
    return (other / np.linalg.norm(other, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture
async def hnsw_factory(tmp_path: Path) -> AsyncIterator[Factory]:
    made: list[HnswIndex] = []

    def make(max_entries: int = 1000, path: Path | None = None) -> HnswIndex:
        index = HnswIndex(HnswOptions(dimensions=DIM, max_entries=max_entries), path=path)
        made.append(index)
        return index

    yield make
    for index in made:
        await index.aclose()


@pytest.fixture
async def redis_factory(vector_redis: RedisProcess) -> AsyncIterator[Factory]:
    """Indexes on the session's vector Redis, each under a prefix of its own, cleaned up after."""
    made: list[tuple[RedisVectorIndex, StoreBackbone]] = []
    errors: list[str] = []

    def make(
        max_entries: int = 1000, url: str | None = None, prefix: str | None = None
    ) -> RedisVectorIndex:
        prefix = prefix or f"sbtest-{uuid.uuid4().hex[:8]}:"
        options = RedisOptions(url=url or vector_redis.url, prefix=prefix, backoff_s=0.2)
        backbone = StoreBackbone(options, errors.append)
        index = RedisVectorIndex(
            backbone, RedisIndexOptions(dimensions=DIM, max_entries=max_entries)
        )
        made.append((index, backbone))
        return index

    make.errors = errors  # type: ignore[attr-defined]
    yield make
    for index, backbone in made:
        with contextlib.suppress(Exception):
            await index.clear()
            await backbone.client.execute_command("FT.DROPINDEX", index.index_name)
        await backbone.aclose()
