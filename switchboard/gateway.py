"""The Gateway: every long-lived component of one process, built from Settings, no globals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from switchboard.cache.reply_cache import ReplyCache
from switchboard.cache.setup import attach_semantic, reply_cache
from switchboard.catalogue import Catalogue, Price
from switchboard.config import Settings
from switchboard.embeddings.cached import CachedEmbedder
from switchboard.observability.events import EventBus
from switchboard.observability.live import LiveStats
from switchboard.observability.live_share import LiveShare
from switchboard.observability.metrics import Metrics
from switchboard.observability.slo_share import SloBoard
from switchboard.observability.spans import Tracing
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
from switchboard.pipeline.route import RouteStage
from switchboard.pipeline.stage import Next
from switchboard.providers.base import Provider
from switchboard.providers.registry import build_provider
from switchboard.rag.holder import RagHolder
from switchboard.routing.health import HealthBoard
from switchboard.routing.quota import DeploymentQuota
from switchboard.stores.conversations import ConversationStore

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from switchboard.jobs.engine import JobEngine
    from switchboard.keys.store import KeyStore
    from switchboard.limits.backends import LimitBackends
    from switchboard.stores.backbone import StoreBackbone

from switchboard.components import (
    breaker_policy,
    conversation_store,
    make_classifier,
    make_embedder,
    make_embedding_classifier,
    make_genai_metrics,
    make_job_engine,
    make_key_store,
    make_limit_backends,
    make_slo_board,
    make_store_backbone,
    make_tracing,
    retry_policy,
    worst_prices,
)

log = logging.getLogger("switchboard")


async def _answers(probe: Awaitable[object], timeout_s: float = 1.0) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            await probe
    except Exception:
        return False
    return True


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
        bus.subscribe(make_genai_metrics(metrics, catalogue))
        deployments = [d for m in catalogue.models for d in m.deployments]
        board = HealthBoard(deployments, breaker_policy(settings))
        metrics.watch_circuits(board.circuit_states)
        internal = InternalCalls()
        route = RouteStage(
            catalogue,
            providers,
            board,
            make_classifier(settings, catalogue),
            ask=internal.asker("classifier"),
        )
        keys, limits, usage = None, None, None
        auth: AuthStage | None = None
        limits_stage: LimitsStage | None = None
        quotas = any(d.rpm or d.tpm for d in deployments)
        backbone = make_store_backbone(settings, metrics)
        if settings.auth_required or settings.master_key is not None or quotas:
            limits = make_limit_backends(backbone, metrics)
        if settings.auth_required or settings.master_key is not None:
            keys = make_key_store(settings)
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
        embedder = make_embedder(settings, catalogue, internal, backbone, providers)  # no I/O yet
        if any(
            m.router is not None and m.router.classifier == "embedding" for m in catalogue.models
        ):
            route.use_embedding_classifier(make_embedding_classifier(embedder))
        cache = reply_cache(settings, catalogue, backbone, metrics.cache)
        tracing = make_tracing(tracer_provider)
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
            backbone, make_slo_board(catalogue, bus, backbone),
            make_job_engine(settings, metrics), live,
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
