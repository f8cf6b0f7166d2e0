"""How each long-lived component is built from Settings and the catalogue.

The Gateway (gateway.py) calls these and holds what they return.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import TYPE_CHECKING

from switchboard.catalogue import Catalogue, Price
from switchboard.config import Settings
from switchboard.embeddings.build import SharesLocalEmbedder, build_embedder, local_embedder
from switchboard.embeddings.cached import CachedEmbedder
from switchboard.observability.events import EventBus
from switchboard.observability.genai_metrics import GenAiMetrics, latest_experimental
from switchboard.observability.metrics import Metrics
from switchboard.observability.slo import SloTracker, objectives_of
from switchboard.observability.slo_share import RedisShare, SloBoard
from switchboard.observability.spans import Tracing, provider_from_env
from switchboard.pipeline.internal import InternalCalls
from switchboard.pipeline.route import TierClassifier
from switchboard.providers.base import Provider
from switchboard.routing.breaker import BreakerPolicy
from switchboard.routing.retry import RetryPolicy
from switchboard.stores.conversations import ConversationStore, InMemoryConversationStore

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from switchboard.jobs.engine import JobEngine
    from switchboard.keys.store import KeyStore
    from switchboard.limits.backends import LimitBackends
    from switchboard.routing.embedding_router import EmbeddingComplexityClassifier
    from switchboard.stores.backbone import StoreBackbone

log = logging.getLogger("switchboard")


def breaker_policy(settings: Settings) -> BreakerPolicy:
    return BreakerPolicy(
        window_s=settings.breaker_window_s,
        min_calls=settings.breaker_min_calls,
        failure_rate=settings.breaker_failure_rate,
        cooldown_s=settings.breaker_cooldown_s,
        min_span_s=settings.breaker_min_span_s,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        rounds=settings.retry_rounds,
        backoff_s=settings.retry_backoff_s,
        backoff_max_s=settings.retry_backoff_max_s,
        retry_after_max_s=settings.retry_after_max_s,
    )


def make_classifier(settings: Settings, catalogue: Catalogue) -> TierClassifier | None:
    """Load the complexity classifier only when some model routes by complexity."""
    if not any(m.router is not None for m in catalogue.models):
        return None
    from switchboard.routing.complexity import ComplexityClassifier

    return ComplexityClassifier.load(settings.complexity_model_path)


def make_embedding_classifier(embedder: CachedEmbedder) -> EmbeddingComplexityClassifier:
    """The embedding router's weights are MiniLM's: it needs the local embedder."""
    if local_embedder(embedder) is None:
        raise ValueError("router classifier `embedding` needs the local embedder (embedder=local)")
    from switchboard.routing.embedding_router import EmbeddingComplexityClassifier

    return EmbeddingComplexityClassifier.load(embedder)


def worst_prices(catalogue: Catalogue) -> dict[str, Price]:
    """Per public model, the dearest rates of any deployment that may serve it (for reserving)."""

    def dearest(prices: list[Price]) -> Price:
        def top(name: str) -> float:
            return max((getattr(p, name) or 0.0) for p in prices) if prices else 0.0

        return Price(
            input=top("input"),
            output=top("output"),
            cached_input=top("cached_input") or top("input"),
            cache_write_input=top("cache_write_input") or top("input"),
        )

    out: dict[str, Price] = {}
    for model in catalogue.models:
        names = [model.name, *model.fallbacks]
        if model.router is not None:
            r = model.router
            tiers = [catalogue.find(n) for n in (r.simple, r.moderate, r.complex)]
            names = [n for m in tiers if m is not None for n in (m.name, *m.fallbacks)]
        prices = [
            d.price for n in names if (m := catalogue.find(n)) is not None for d in m.deployments
        ]
        out[model.name] = dearest(prices)
    return out


def conversation_store(settings: Settings, backbone: StoreBackbone | None) -> ConversationStore:
    """In-process for one replica; Redis (shared by every replica, behind the backbone's
    timeouts and down policy) when a Redis URL is set."""
    if backbone is None:
        return InMemoryConversationStore(
            settings.conversation_max_count, settings.conversation_max_messages
        )
    from switchboard.stores.redis_conversations import GuardedConversationStore

    return GuardedConversationStore.on(
        backbone, settings.conversation_max_messages, settings.conversation_ttl_s
    )


def make_key_store(settings: Settings) -> KeyStore:
    """The SQL key store, imported only when keys are in use."""
    from switchboard.keys.store import SqlKeyStore

    return SqlKeyStore.from_settings(settings)


def make_embedder(
    settings: Settings,
    catalogue: Catalogue,
    internal: InternalCalls,
    backbone: StoreBackbone | None,
    providers: dict[str, Provider],
) -> CachedEmbedder:
    """The one embedder of the gateway; the local model's /v1/embeddings shares its MiniLM."""
    embedder = build_embedder(settings, catalogue, partial(internal.embed, "embedder"), backbone)
    local = local_embedder(embedder)
    if local is not None:
        for provider in providers.values():
            if isinstance(provider, SharesLocalEmbedder):
                provider.use_embedder(local)
    return embedder


def make_store_backbone(settings: Settings, metrics: Metrics) -> StoreBackbone | None:
    """The Redis client every store shares, when a Redis URL is set; outages are counted."""
    if settings.redis_url is None:
        return None
    from switchboard.stores.backbone import StoreBackbone

    return StoreBackbone.from_settings(settings, metrics.limits_store_error)


def make_limit_backends(backbone: StoreBackbone | None, metrics: Metrics) -> LimitBackends:
    """Limit stores (Redis when configured), imported only when something is limited."""
    from switchboard.limits.backends import limit_backends

    return limit_backends(backbone, metrics.limits_settle_failure)


def make_slo_board(catalogue: Catalogue, bus: EventBus, backbone: StoreBackbone | None) -> SloBoard:
    """The SLO tracker on the event bus; its buckets shared through Redis when there is one."""
    tracker = SloTracker(objectives_of(catalogue), [m.name for m in catalogue.models])
    bus.subscribe(tracker)
    return SloBoard(tracker, RedisShare(backbone) if backbone is not None else None)


def make_job_engine(settings: Settings, metrics: Metrics) -> JobEngine | None:
    """Background jobs (Celery when a broker is set, else run in-process), when switched on."""
    if not settings.jobs_on:
        return None
    from switchboard.jobs.engine import JobEngine

    return JobEngine.build(settings, metrics.jobs)


def make_genai_metrics(metrics: Metrics, catalogue: Catalogue) -> GenAiMetrics:
    """GenAI semantic-convention histograms (the draft ones when OTEL_SEMCONV_STABILITY_OPT_IN
    asks), inter-token latency, and cost per configured tenant, on the same registry."""
    experimental = latest_experimental(os.environ)
    return GenAiMetrics(metrics.registry, catalogue.tenants, experimental=experimental)


def make_tracing(provider: TracerProvider | None) -> Tracing | None:
    """Spans into the embedder's provider, else into the exporters OTEL_* asks for, else off."""
    if provider is not None:
        return Tracing(provider, owned=False)
    built = provider_from_env(os.environ)
    return Tracing(built, owned=True) if built is not None else None
