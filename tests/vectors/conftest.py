"""The vector index implementations the contract suite runs against, and helpers for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from switchboard.vectors.base import VectorIndex
from switchboard.vectors.hnsw import HnswIndex, HnswOptions

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
