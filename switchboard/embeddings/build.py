"""Picks the gateway's embedder from Settings: the shipped MiniLM in process (or the static
table distilled from it), or a catalogue embeddings model through the pipeline; always behind
the L3 embedding cache (in process, and in Redis when a Redis URL is set)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from switchboard.embeddings.cached import CachedEmbedder, RedisEmbeddingStore
from switchboard.embeddings.catalogue import CatalogueEmbedder, EmbedCall
from switchboard.embeddings.local import LocalEmbedder
from switchboard.embeddings.static import StaticEmbedder

if TYPE_CHECKING:
    from switchboard.catalogue import Catalogue
    from switchboard.config import Settings
    from switchboard.embeddings.base import Embedder
    from switchboard.stores.backbone import StoreBackbone

LOCAL = "local"
STATIC = "static"  # the token table distilled from MiniLM (embeddings/static.py)


@runtime_checkable
class SharesLocalEmbedder(Protocol):
    """A component (the local model provider) that can run on the gateway's one MiniLM."""

    def use_embedder(self, embedder: LocalEmbedder) -> None: ...


def build_embedder(
    settings: Settings,
    catalogue: Catalogue,
    embed_call: EmbedCall,
    backbone: StoreBackbone | None = None,
) -> CachedEmbedder:
    """`embed_call` is the pipeline's internal embeddings entry (used for a catalogue model).
    Building does no I/O: the local model loads at its first use (or `LocalEmbedder.start_loading`).
    """
    inner: Embedder
    if settings.embedder == LOCAL:
        inner = LocalEmbedder(
            threads=settings.embedder_threads or None, precision=settings.embedder_precision
        )
    elif settings.embedder == STATIC:
        inner = StaticEmbedder()
    elif catalogue.find(settings.embedder) is None:
        known = "`local`, `static` nor a catalogue model"
        raise ValueError(f"embedder {settings.embedder!r} is neither {known}")
    else:
        inner = CatalogueEmbedder(settings.embedder, embed_call, settings.embedder_dimensions)
    shared = None
    if backbone is not None:
        shared = RedisEmbeddingStore(backbone, settings.embedding_cache_ttl_s, inner.dimensions)
    return CachedEmbedder(inner, settings.embedding_cache_entries, shared)


def local_embedder(embedder: Embedder) -> LocalEmbedder | None:
    """The in-process MiniLM behind `embedder`, if that is what it runs (to share it)."""
    inner = embedder.inner if isinstance(embedder, CachedEmbedder) else embedder
    return inner if isinstance(inner, LocalEmbedder) else None
