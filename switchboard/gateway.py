"""The Gateway: every long-lived component of one process, built from Settings, no globals."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from switchboard.config import Catalogue, Price, Settings
from switchboard.keys.store import KeyStore, SqlKeyStore
from switchboard.limits import LimitBackends, build_limit_backends
from switchboard.observability.events import EventBus
from switchboard.observability.metrics import Metrics
from switchboard.observability.usage import UsageRecorder
from switchboard.pipeline.auth import AuthStage
from switchboard.pipeline.build import build_pipeline
from switchboard.pipeline.call import CallStage
from switchboard.pipeline.limits import LimitsStage
from switchboard.pipeline.record import RecordStage
from switchboard.pipeline.route import RouteStage, TierClassifier
from switchboard.pipeline.stage import Next
from switchboard.providers.base import Provider
from switchboard.providers.registry import build_provider
from switchboard.routing.breaker import BreakerPolicy
from switchboard.routing.health import HealthBoard
from switchboard.routing.retry import RetryPolicy
from switchboard.stores.conversations import ConversationStore, InMemoryConversationStore

log = logging.getLogger("switchboard")


def breaker_policy(settings: Settings) -> BreakerPolicy:
    return BreakerPolicy(
        window_s=settings.breaker_window_s,
        min_calls=settings.breaker_min_calls,
        failure_rate=settings.breaker_failure_rate,
        cooldown_s=settings.breaker_cooldown_s,
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


@dataclass
class Gateway:
    settings: Settings
    catalogue: Catalogue
    providers: dict[str, Provider]
    metrics: Metrics
    bus: EventBus
    route: RouteStage
    board: HealthBoard
    keys: KeyStore
    limits: LimitBackends
    usage: UsageRecorder
    pipeline: Next
    conversations: ConversationStore

    @classmethod
    def build(cls, settings: Settings) -> Gateway:
        catalogue = settings.load_catalogue()
        providers = {
            d.id: build_provider(d, settings) for m in catalogue.models for d in m.deployments
        }
        metrics = Metrics()
        keys = SqlKeyStore.from_settings(settings)
        usage = UsageRecorder(keys)
        bus = EventBus([metrics, usage])
        deployments = [d for m in catalogue.models for d in m.deployments]
        board = HealthBoard(deployments, breaker_policy(settings))
        metrics.watch_circuits(board.circuit_states)
        limits = build_limit_backends(
            settings.redis_url,
            settings.redis_prefix,
            settings.redis_down_policy,
            metrics.limits_store_error,
        )
        prices = worst_prices(catalogue)
        route = RouteStage(catalogue, providers, board, _classifier(settings, catalogue))
        pipeline = build_pipeline(
            record=RecordStage(bus),
            auth=AuthStage(keys, required=settings.auth_required),
            limits=LimitsStage(
                limits,
                keys,
                lambda name: prices.get(name, Price()),
                catalogue.tenants,
                settings.reserve_completion_tokens,
            ),
            route=route,
            call=CallStage(retry_policy(settings)),
        )
        conversations = InMemoryConversationStore(
            settings.conversation_max_count, settings.conversation_max_messages
        )
        return cls(
            settings, catalogue, providers, metrics, bus, route, board, keys, limits, usage,
            pipeline, conversations,
        )  # fmt: skip

    @property
    def default_model(self) -> str:
        return self.catalogue.default_model or self.catalogue.models[0].name

    @property
    def uses_key_store(self) -> bool:
        return self.settings.auth_required or self.settings.master_key is not None

    async def start(self) -> None:
        if self.uses_key_store:
            await self.keys.migrate()
        else:
            log.warning("API keys are not required (set SWITCHBOARD_MASTER_KEY to require them)")
        await asyncio.gather(*(p.start() for p in self.providers.values()))
        self.usage.start()

    async def aclose(self) -> None:
        await self.usage.aclose()
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)
        await self.limits.aclose()
        await self.keys.aclose()

    def readiness(self) -> dict[str, bool]:
        """Each deployment's readiness; the gateway is ready when every one is."""
        return {name: p.is_ready() for name, p in self.providers.items()}
