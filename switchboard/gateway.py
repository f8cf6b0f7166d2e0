"""The Gateway: every long-lived component of one process, built from Settings, no globals."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from switchboard.config import Catalogue, Settings
from switchboard.observability.events import EventBus
from switchboard.observability.metrics import Metrics
from switchboard.pipeline.build import build_pipeline
from switchboard.pipeline.call import CallStage
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


@dataclass
class Gateway:
    settings: Settings
    catalogue: Catalogue
    providers: dict[str, Provider]
    metrics: Metrics
    bus: EventBus
    route: RouteStage
    board: HealthBoard
    pipeline: Next
    conversations: ConversationStore

    @classmethod
    def build(cls, settings: Settings) -> Gateway:
        catalogue = settings.load_catalogue()
        providers = {
            d.id: build_provider(d, settings) for m in catalogue.models for d in m.deployments
        }
        metrics = Metrics()
        bus = EventBus([metrics])
        deployments = [d for m in catalogue.models for d in m.deployments]
        board = HealthBoard(deployments, breaker_policy(settings))
        metrics.watch_circuits(board.circuit_states)
        route = RouteStage(catalogue, providers, board, _classifier(settings, catalogue))
        pipeline = build_pipeline(RecordStage(bus), route, CallStage(retry_policy(settings)))
        conversations = InMemoryConversationStore(
            settings.conversation_max_count, settings.conversation_max_messages
        )
        return cls(
            settings, catalogue, providers, metrics, bus, route, board, pipeline, conversations
        )

    @property
    def default_model(self) -> str:
        return self.catalogue.default_model or self.catalogue.models[0].name

    async def start(self) -> None:
        await asyncio.gather(*(p.start() for p in self.providers.values()))

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.providers.values()), return_exceptions=True)

    def readiness(self) -> dict[str, bool]:
        """Each deployment's readiness; the gateway is ready when every one is."""
        return {name: p.is_ready() for name, p in self.providers.items()}
