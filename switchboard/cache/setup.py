"""Build the reply cache a gateway's settings and catalogue ask for (None when no model caches).

Entries live in process memory, or in Redis (through the store backbone) when a Redis URL is
set, so every replica shares them. The semantic layer is built only when some model's policy
lists it: it loads the embedding model and a vector index.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from switchboard.cache.reply_cache import ReplyCache
from switchboard.cache.semantic import SemanticLayer
from switchboard.cache.store import InMemoryReplyStore, ReplyStore
from switchboard.config import Catalogue, Settings
from switchboard.observability.cache_metrics import CacheMetrics

if TYPE_CHECKING:
    from switchboard.stores.backbone import StoreBackbone

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


def semantic_layer(
    settings: Settings, backbone: StoreBackbone | None, metrics: CacheMetrics
) -> SemanticLayer | None:
    """The embedder and the vector index the settings pick (wired with the vector indexes)."""
    log.warning("semantic cache layer not available yet: exact layer only")
    return None


def reply_cache(
    settings: Settings,
    catalogue: Catalogue,
    backbone: StoreBackbone | None,
    metrics: CacheMetrics,
) -> ReplyCache | None:
    if not ReplyCache.wanted(catalogue):
        return None
    semantic = None
    if ReplyCache.semantic_wanted(catalogue):
        semantic = semantic_layer(settings, backbone, metrics)
    return ReplyCache(
        catalogue,
        reply_store(settings, backbone, metrics),
        semantic,
        on_error=lambda part: metrics.errors.labels(part).inc(),
        on_guard=lambda reason: metrics.guard_rejections.labels(reason).inc(),
    )
