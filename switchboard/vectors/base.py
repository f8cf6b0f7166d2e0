"""The VectorIndex protocol: the semantic cache and the RAG store search through it.

Every entry lives in a `namespace` (the owner: a tenant, or a cache scope), and a search never
crosses namespaces, so no caller can reach another owner's entries. Scores are cosine
similarities in [-1, 1] (the vectors are unit length), best first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from switchboard.embeddings.base import Vectors


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    score: float


class VectorIndex(Protocol):
    """An approximate nearest-neighbour index; an embedded and a Redis implementation."""

    async def add(
        self, namespace: str, ids: list[str], vectors: Vectors, ttl_s: float | None = None
    ) -> None:
        """Insert or replace entries; `ttl_s` expires them (None: until removed or evicted)."""

    async def search(self, namespace: str, vector: Vectors, k: int = 1) -> list[Match]:
        """The k nearest entries of the namespace to one query vector (shape (d,) or (1, d))."""

    async def remove(self, namespace: str, ids: list[str]) -> None: ...

    async def clear(self, namespace: str | None = None) -> int:
        """Drop a namespace's entries (None: all); returns how many were dropped."""

    async def count(self, namespace: str | None = None) -> int: ...

    async def aclose(self) -> None: ...


def as_rows(vectors: Vectors, dimensions: int) -> Vectors:
    """`vectors` as a C-contiguous float32 (n, dimensions) array; ValueError on another shape."""
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows[None, :]
    if rows.ndim != 2 or rows.shape[1] != dimensions:
        raise ValueError(f"vectors must have {dimensions} dimensions, not shape {rows.shape}")
    return rows


def entry_rows(ids: list[str], vectors: Vectors, dimensions: int) -> Vectors:
    """`as_rows`, checking that there is one id per vector."""
    rows = as_rows(vectors, dimensions)
    if len(ids) != len(rows):
        raise ValueError(f"{len(ids)} ids for {len(rows)} vectors")
    return rows
