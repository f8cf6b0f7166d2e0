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
from switchboard.pipeline.route import RouteStage
from switchboard.pipeline.stage import Next
from switchboard.providers.base import Provider
from switchboard.providers.registry import build_provider
from switchboard.stores.conversations import ConversationStore, InMemoryConversationStore

log = logging.getLogger("switchboard")


@dataclass
class Gateway:
    settings: Settings
    catalogue: Catalogue
    providers: dict[str, Provider]
    metrics: Metrics
    bus: EventBus
    route: RouteStage
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
        route = RouteStage(catalogue, providers)
        pipeline = build_pipeline(RecordStage(bus), route, CallStage())
        conversations = InMemoryConversationStore(
            settings.conversation_max_count, settings.conversation_max_messages
        )
        return cls(settings, catalogue, providers, metrics, bus, route, pipeline, conversations)

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
