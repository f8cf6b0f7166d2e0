"""Picks the vector index from Settings, the way the stores pick theirs: in-process HNSW
(persisted under `vector_index_path`) unless `vector_redis_url` names a Redis with vector search.
The semantic cache and RAG each open their own index by name ("cache", "rag")."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.stores.guard import OnError
from switchboard.vectors.base import VectorIndex
from switchboard.vectors.hnsw import HnswIndex, HnswOptions
from switchboard.vectors.redis_index import RedisIndexOptions, RedisVectorIndex

if TYPE_CHECKING:
    from switchboard.config import Settings


async def open_vector_index(
    settings: Settings,
    name: str,
    *,
    dimensions: int,
    backbone: StoreBackbone | None = None,
    on_error: OnError | None = None,
) -> VectorIndex:
    """`build_vector_index`, with the embedded index already loaded from disk."""
    index = build_vector_index(
        settings, name, dimensions=dimensions, backbone=backbone, on_error=on_error
    )
    if isinstance(index, HnswIndex):
        await index.open()
    return index


def build_vector_index(
    settings: Settings,
    name: str,
    *,
    dimensions: int,
    backbone: StoreBackbone | None = None,
    on_error: OnError | None = None,
) -> VectorIndex:
    """The index the settings pick; no I/O (the embedded one loads from disk, and starts
    saving every `vector_index_save_s`, at its first use). `backbone` is reused when it points
    at `vector_redis_url`; otherwise the Redis index gets a backbone of its own (closed with
    it). `on_error` counts vector store outages (kind "vector_index")."""
    if settings.vector_redis_url is None:
        path = settings.vector_index_path
        options = HnswOptions(
            dimensions=dimensions,
            max_entries=settings.vector_index_max_entries,
            expansion_search=settings.vector_index_ef_search,
        )
        return HnswIndex(
            options,
            path=None if path is None else path / f"{name}.npz",
            save_every_s=settings.vector_index_save_s,
        )
    shape = RedisIndexOptions(
        name=name, dimensions=dimensions, max_entries=settings.vector_index_max_entries
    )
    if backbone is not None and backbone.options.url == settings.vector_redis_url:
        return RedisVectorIndex(backbone, shape)
    own = vector_backbone(settings, on_error or _ignore)
    return RedisVectorIndex(own, shape, owns_backbone=True)


def vector_backbone(settings: Settings, on_error: OnError) -> StoreBackbone:
    """A backbone for `vector_redis_url`, with the timeouts and back-off of the main one."""
    assert settings.vector_redis_url is not None
    shaped = settings.model_copy(update={"redis_url": settings.vector_redis_url})
    options = RedisOptions.from_settings(shaped)
    assert options is not None
    return StoreBackbone(dataclasses.replace(options, policy="open"), on_error)


def _ignore(kind: str) -> None:
    """No counter given: the outage is still logged by the backbone."""
