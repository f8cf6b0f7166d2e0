"""Build the reply cache a gateway's settings and catalogue ask for (None when no model caches).

Entries live in process memory, or in Redis (through the store backbone) when a Redis URL is
set, so every replica shares them. The semantic layer is attached only when some model's policy
lists it: it runs on the gateway's embedder and opens a vector index of its own ("cache").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from switchboard.cache.reply_cache import ReplyCache
from switchboard.cache.semantic import SemanticLayer
from switchboard.cache.store import InMemoryReplyStore, ReplyStore
from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.observability.cache_metrics import CacheMetrics

if TYPE_CHECKING:
    from switchboard.embeddings.base import Embedder
    from switchboard.stores.backbone import StoreBackbone
    from switchboard.stores.guard import OnError

log = logging.getLogger("switchboard.cache")


def reply_store(
    settings: Settings, backbone: StoreBackbone | None, metrics: CacheMetrics
) -> ReplyStore:
    if backbone is not None:
        from switchboard.cache.redis_store import GuardedReplyStore

        return GuardedReplyStore.on(backbone)
    store = InMemoryReplyStore(
        settings.cache_max_entries, settings.cache_max_bytes, on_evict=metrics.evictions.inc
    )
    metrics.watch_entries(store.__len__)
    return store


async def attach_semantic(
    cache: ReplyCache,
    settings: Settings,
    catalogue: Catalogue,
    embedder: Embedder,
    backbone: StoreBackbone | None,
    metrics: CacheMetrics,
    on_store_error: OnError,
) -> None:
    """Give the cache its semantic layer (at start-up: opening the index may read a file or
    reach Redis): the gateway's one embedder, and the vector index the settings pick."""
    if not ReplyCache.semantic_wanted(catalogue):
        return
    from switchboard.embeddings.build import local_embedder
    from switchboard.vectors.build import open_vector_index

    local = local_embedder(embedder)
    if local is not None:
        local.start_loading()  # in the background: the first lookup need not wait for it all
    index = await open_vector_index(
        settings,
        "cache",
        dimensions=embedder.dimensions,
        backbone=backbone,
        on_error=on_store_error,
    )
    metrics.watch_index_evictions(lambda: float(getattr(index, "evictions", 0)))
    cache.semantic = SemanticLayer(
        embedder, index, on_error=lambda part: metrics.errors.labels(part).inc()
    )


def reply_cache(
    settings: Settings,
    catalogue: Catalogue,
    backbone: StoreBackbone | None,
    metrics: CacheMetrics,
) -> ReplyCache | None:
    if not ReplyCache.wanted(catalogue):
        return None
    return ReplyCache(
        catalogue,
        reply_store(settings, backbone, metrics),
        None,  # the semantic layer: attach_semantic, at start-up
        on_error=lambda part: metrics.errors.labels(part).inc(),
        on_guard=lambda reason: metrics.guard_rejections.labels(reason).inc(),
    )
