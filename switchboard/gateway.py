"""The Gateway: every long-lived component of one process, built from Settings, no globals."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from switchboard.cache.reply_cache import ReplyCache
from switchboard.cache.setup import attach_semantic, reply_cache
from switchboard.catalogue import Catalogue, Price
from switchboard.config import Settings
from switchboard.embeddings.build import SharesLocalEmbedder, build_embedder, local_embedder
from switchboard.embeddings.cached import CachedEmbedder
from switchboard.observability.events import EventBus
from switchboard.observability.genai_metrics import GenAiMetrics, latest_experimental
from switchboard.observability.live import LiveStats
from switchboard.observability.live_share import LiveShare
from switchboard.observability.metrics import Metrics
from switchboard.observability.slo import SloTracker, objectives_of
from switchboard.observability.slo_share import RedisShare, SloBoard
from switchboard.observability.spans import Tracing, provider_from_env
from switchboard.observability.usage import UsageRecorder
from switchboard.pipeline.account import AccountStage
from switchboard.pipeline.auth import Authenticator, AuthStage
from switchboard.pipeline.build import Stages, build_internal_pipeline, build_pipeline
from switchboard.pipeline.cache import CacheStage
from switchboard.pipeline.call import CallStage
from switchboard.pipeline.internal import InternalCalls
from switchboard.pipeline.limits import LimitsStage
from switchboard.pipeline.memory import MemoryStage
from switchboard.pipeline.optimize import OptimizeStage, optimize_policies
from switchboard.pipeline.record import RecordStage
from switchboard.pipeline.route import RouteStage, TierClassifier
from switchboard.pipeline.stage import Next
from switchboard.providers.base import Provider
from switchboard.providers.registry import build_provider
from switchboard.rag.holder import RagHolder
from switchboard.routing.breaker import BreakerPolicy
from switchboard.routing.health import HealthBoard
from switchboard.routing.quota import DeploymentQuota
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


def _classifier(settings: Settings, catalogue: Catalogue) -> TierClassifier | None:
    """Load the complexity classifier only when some model routes by complexity."""
    if not any(m.router is not None for m in catalogue.models):
        return None
    from switchboard.routing.complexity import ComplexityClassifier

    return ComplexityClassifier.load(settings.complexity_model_path)


def _embedding_classifier(embedder: CachedEmbedder) -> EmbeddingComplexityClassifier:
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


async def _answers(probe: Awaitable[object], timeout_s: float = 1.0) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            await probe
    except Exception:
        return False
    return True


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


def _key_store(settings: Settings) -> KeyStore:
    """The SQL key store, imported only when keys are in use."""
    from switchboard.keys.store import SqlKeyStore

    return SqlKeyStore.from_settings(settings)


def _embedder(
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


def _store_backbone(settings: Settings, metrics: Metrics) -> StoreBackbone | None:
    """The Redis client every store shares, when a Redis URL is set; outages are counted."""
    if settings.redis_url is None:
        return None
    from switchboard.stores.backbone import StoreBackbone

    return StoreBackbone.from_settings(settings, metrics.limits_store_error)


def _limit_backends(backbone: StoreBackbone | None, metrics: Metrics) -> LimitBackends:
    """Limit stores (Redis when configured), imported only when something is limited."""
    from switchboard.limits.backends import limit_backends

    return limit_backends(backbone, metrics.limits_settle_failure)


def _slo_board(catalogue: Catalogue, bus: EventBus, backbone: StoreBackbone | None) -> SloBoard:
    """The SLO tracker on the event bus; its buckets shared through Redis when there is one."""
    tracker = SloTracker(objectives_of(catalogue), [m.name for m in catalogue.models])
    bus.subscribe(tracker)
    return SloBoard(tracker, RedisShare(backbone) if backbone is not None else None)


def _job_engine(settings: Settings, metrics: Metrics) -> JobEngine | None:
    """Background jobs (Celery when a broker is set, else run in-process), when switched on."""
    if not settings.jobs_on:
        return None
    from switchboard.jobs.engine import JobEngine

    return JobEngine.build(settings, metrics.jobs)


def _genai_metrics(metrics: Metrics, catalogue: Catalogue) -> GenAiMetrics:
    """GenAI semantic-convention histograms (the draft ones when OTEL_SEMCONV_STABILITY_OPT_IN
    asks), inter-token latency, and cost per configured tenant, on the same registry."""
    experimental = latest_experimental(os.environ)
    return GenAiMetrics(metrics.registry, catalogue.tenants, experimental=experimental)


def _tracing(provider: TracerProvider | None) -> Tracing | None:
    """Spans into the embedder's provider, else into the exporters OTEL_* asks for, else off."""
    if provider is not None:
        return Tracing(provider, owned=False)
    built = provider_from_env(os.environ)
    return Tracing(built, owned=True) if built is not None else None


@dataclass
class Gateway:
    settings: Settings
    catalogue: Catalogue
    providers: dict[str, Provider]
    metrics: Metrics
    bus: EventBus
    route: RouteStage
    board: HealthBoard
    keys: KeyStore | None  # None: API keys are off (no master key, auth not enabled)
    limits: LimitBackends | None
    usage: UsageRecorder | None
    limits_stage: LimitsStage | None
    pipeline: Next
    conversations: ConversationStore
    internal: InternalCalls  # the gateway's own calls, through the pipeline
    authenticator: Authenticator | None  # None: API keys are off
    backbone: StoreBackbone | None = None  # the Redis client every store shares; None: no Redis
    slo: SloBoard | None = None  # objectives, their buckets and the /admin/slo report
    jobs: JobEngine | None = None  # background jobs; None: off (see Settings.jobs_on)
    live: LiveStats = field(default_factory=LiveStats)  # the dashboard's last minutes
    cache: ReplyCache | None = None  # the reply cache; None: no model caches
    tracing: Tracing | None = None  # OpenTelemetry spans; None: tracing is off
    embedder: CachedEmbedder | None = None  # cache/RAG embeddings (Settings.embedder), L3-cached
    rag: RagHolder | None = None  # documents and retrieval, built on first use
    live_share: LiveShare | None = None  # the dashboard's live stats of every replica (Redis)

    @classmethod
    def build(cls, settings: Settings, tracer_provider: TracerProvider | None = None) -> Gateway:
        catalogue = settings.load_catalogue()
        providers = {
            d.id: build_provider(d, settings) for m in catalogue.models for d in m.deployments
        }
        metrics = Metrics()
        live = LiveStats()
        bus = EventBus([metrics, live])
        bus.subscribe(_genai_metrics(metrics, catalogue))
        deployments = [d for m in catalogue.models for d in m.deployments]
        board = HealthBoard(deployments, breaker_policy(settings))
        metrics.watch_circuits(board.circuit_states)
        internal = InternalCalls()
        route = RouteStage(
            catalogue,
            providers,
            board,
            _classifier(settings, catalogue),
            ask=internal.asker("classifier"),
        )
        keys, limits, usage = None, None, None
        auth: AuthStage | None = None
        limits_stage: LimitsStage | None = None
        quotas = any(d.rpm or d.tpm for d in deployments)
        backbone = _store_backbone(settings, metrics)
        if settings.auth_required or settings.master_key is not None or quotas:
            limits = _limit_backends(backbone, metrics)
        if settings.auth_required or settings.master_key is not None:
            keys = _key_store(settings)
            usage = UsageRecorder(keys)
            bus.subscribe(usage)
        if settings.auth_required and keys is not None and limits is not None:
            prices = worst_prices(catalogue)
            limits_stage = LimitsStage(
                limits,
                keys,
                lambda name: prices.get(name, Price()),
                catalogue.tenants,
                settings.reserve_completion_tokens,
            )
        authenticator = Authenticator(keys) if keys is not None else None
        if settings.auth_required and authenticator is not None:
            auth = AuthStage(authenticator)
        conversations = conversation_store(settings, backbone)
        embedder = _embedder(settings, catalogue, internal, backbone, providers)  # no I/O yet
        if any(
            m.router is not None and m.router.classifier == "embedding" for m in catalogue.models
        ):
            route.use_embedding_classifier(_embedding_classifier(embedder))
        cache = reply_cache(settings, catalogue, backbone, metrics.cache)
        tracing = _tracing(tracer_provider)
        optimizing = optimize_policies(catalogue)
        stages = Stages(
            record=RecordStage(bus, tracing),
            auth=auth,
            memory=MemoryStage(conversations),
            limits=limits_stage,
            route=route,
            account=AccountStage(),
            call=CallStage(
                retry_policy(settings),
                DeploymentQuota(limits.limiter, settings.reserve_completion_tokens)
                if limits is not None and quotas
                else None,
            ),
            cache=CacheStage(cache, route.first_price, metrics.cache) if cache else None,
            optimize=OptimizeStage(optimizing) if optimizing else None,
            tracing=tracing,
        )
        internal.bind(build_internal_pipeline(stages))
        gateway = cls(
            settings, catalogue, providers, metrics, bus, route, board, keys, limits, usage,
            limits_stage, build_pipeline(stages), conversations, internal, authenticator,
            backbone, _slo_board(catalogue, bus, backbone), _job_engine(settings, metrics), live,
            cache=cache,
            tracing=tracing,
            embedder=embedder,
        )  # fmt: skip
        if gateway.jobs is not None:
            gateway.jobs.bind(gateway)
        gateway.rag = RagHolder(settings, embedder, gateway.jobs, backbone)
        if backbone is not None:
            in_flight = lambda: sum(h.in_flight for h in board.all())  # noqa: E731
            gateway.live_share = LiveShare(live, backbone, in_flight)
        return gateway

    @property
    def default_model(self) -> str:
        return self.catalogue.default_model or self.catalogue.models[0].name

    async def start(self) -> None:
        if self.keys is not None:
            await self.keys.migrate()
        if not self.settings.auth_required:
            log.warning("API keys are not required (set SWITCHBOARD_MASTER_KEY to require them)")
        await asyncio.gather(*(p.start() for p in self.providers.values()))
        if self.usage is not None:
            self.usage.start()
        if self.slo is not None:
            self.slo.start()
        if self.live_share is not None:
            self.live_share.start()
        if self.jobs is not None:
            await self.jobs.start()  # after the keys' migration: the same chain of revisions
        if self.cache is not None and self.embedder is not None:
            await attach_semantic(
                self.cache, self.settings, self.catalogue, self.embedder, self.backbone,
                self.metrics.cache, self.metrics.limits_store_error,
            )  # fmt: skip

    async def aclose(self) -> None:
        if self.jobs is not None:
            await self.jobs.aclose()
        if self.rag is not None:
            await self.rag.aclose()
        if self.limits_stage is not None:
            await self.limits_stage.drain()
        if self.usage is not None:
            await self.usage.aclose()
        if self.slo is not None:
            await self.slo.aclose()
        if self.live_share is not None:
            await self.live_share.aclose()
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)
        if self.limits is not None:
            await self.limits.aclose()
        if self.keys is not None:
            await self.keys.aclose()
        await self.conversations.aclose()
        if self.cache is not None:
            await self.cache.aclose()
        if self.embedder is not None:
            await self.embedder.aclose()
        if self.backbone is not None:
            await self.backbone.aclose()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.shutdown)

    def readiness(self) -> dict[str, bool]:
        """Each deployment's readiness; the gateway is ready when every one is."""
        return {name: p.is_ready() for name, p in self.providers.items()}

    async def store_health(self) -> tuple[dict[str, bool], bool]:
        """Whether each store answers, and whether the gateway can serve without the failing
        ones (a down Redis under the "open" policy degrades limits but keeps serving)."""
        checks: dict[str, bool] = {}
        serving = True
        if self.keys is not None:
            checks["database"] = await _answers(self.keys.get("readiness-probe"))
            serving = serving and checks["database"]
        if self.backbone is not None:
            checks["redis"] = await _answers(self.backbone.client.ping())
            if self.backbone.policy == "closed":
                serving = serving and checks["redis"]
        return checks, serving
