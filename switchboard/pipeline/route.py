"""Route stage: model name -> (tier model, for router models) -> ordered deployment plan."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Protocol

from switchboard.catalogue import Catalogue, ModelConfig, Price
from switchboard.domain import ChatRequest, EmbeddingRequest, Message, Reply
from switchboard.errors import (
    InvalidRequest,
    ModelNotFound,
    NoHealthyDeployment,
)
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.providers.base import Provider
from switchboard.routing.affinity import prefix_key
from switchboard.routing.balancer import order_deployments
from switchboard.routing.complexity import ComplexityClassifier, Tier
from switchboard.routing.embedding_router import EmbeddingComplexityClassifier
from switchboard.routing.health import HealthBoard
from switchboard.routing.llm_classifier import AskModel, LlmClassifier
from switchboard.routing.plan import Candidate

_TIERS = ("simple", "moderate", "complex")


class TierClassifier(Protocol):
    def classify(self, messages: list[Message]) -> Tier:
        """The local classifier: no I/O, well under a millisecond."""


class RouteStage:
    def __init__(
        self,
        catalogue: Catalogue,
        providers: Mapping[str, Provider],
        board: HealthBoard,
        classifier: TierClassifier | None = None,
        rng: random.Random | None = None,
        ask: AskModel | None = None,
    ) -> None:
        self._models: dict[str, ModelConfig] = {m.name: m for m in catalogue.models}
        self._providers = providers
        self._board = board
        self._classifier = classifier
        self._rng = rng or random.Random()
        self._llm: dict[str, LlmClassifier] = {}
        self._embedding: EmbeddingComplexityClassifier | None = None
        if ask is not None and isinstance(classifier, ComplexityClassifier):
            for m in catalogue.models:
                if (
                    m.router is not None
                    and m.router.classifier == "llm"
                    and m.router.classifier_model
                ):
                    self._llm[m.name] = LlmClassifier(ask, m.router.classifier_model, classifier)

    def use_embedding_classifier(self, classifier: EmbeddingComplexityClassifier) -> None:
        """For router models with `classifier: embedding` (set once the embedder is built)."""
        self._embedding = classifier

    def resolve(self, name: str) -> ModelConfig:
        model = self._models.get(name)
        if model is None:
            raise ModelNotFound(
                f"The model `{name}` does not exist or you do not have access to it.",
                param="model",
            )
        return model

    def plan(
        self, model: ModelConfig, request: ChatRequest | EmbeddingRequest | None = None
    ) -> list[Candidate]:
        """The model's usable deployments in strategy order, then each fallback model's.

        Deployments whose breaker is open are left out; when that leaves nothing, the request
        fails fast instead of waiting on a dead upstream. (A deployment at its known quota is
        skipped by the call stage, which draws on the shared quota.)
        """
        plan: list[Candidate] = []
        for m in [model, *(self._models[name] for name in model.fallbacks)]:
            healths = [self._board[d.id] for d in m.deployments]
            key = None
            if m.strategy == "prefix_affinity" and isinstance(request, ChatRequest):
                key = prefix_key(request.messages, m.affinity_prefix_chars)
            for h in order_deployments(healths, m.strategy, self._rng, key, m.affinity_balance):
                if h.breaker.available():
                    provider = self._providers[h.deployment.id]
                    plan.append(Candidate(m.name, h, provider, m.drop_unsupported_params))
        if plan:
            return plan
        raise NoHealthyDeployment(
            f"every deployment of model {model.name!r} is failing; try again shortly",
            retry_after=1,
        )

    def first_price(self, name: str, tier: str | None = None) -> Price | None:
        """The price of the deployment a request for `name` (in `tier`, for a router model)
        would try first now: what a cache hit saved is priced there."""
        model = self._models.get(name)
        if model is not None and model.router is not None:
            model = self._models.get(getattr(model.router, tier)) if tier in _TIERS else None
        if model is None or not model.deployments:
            return None
        try:
            return self.plan(model)[0].deployment.price
        except NoHealthyDeployment:
            return model.deployments[0].price

    async def _tier_model(self, ctx: RequestContext, model: ModelConfig) -> ModelConfig:
        if model.router is None:
            return model
        if not isinstance(ctx.request, ChatRequest):
            raise InvalidRequest(f"model {model.name!r} routes chat requests only", param="model")
        if self._classifier is None:
            raise RuntimeError("a router model needs the complexity classifier")
        llm = self._llm.get(model.name)
        if llm is not None:
            tier = (await llm.classify(ctx.request.messages)).value
        elif model.router.classifier == "embedding" and self._embedding is not None:
            tier = (await self._embedding.classify(ctx.request.messages)).value
        else:
            tier = self._classifier.classify(ctx.request.messages).value
        ctx.tier = tier
        return self.resolve(getattr(model.router, tier))

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        model = await self._tier_model(ctx, self.resolve(ctx.request.model))
        ctx.plan = self.plan(model, ctx.request)
        ctx.deployment = ctx.plan[0].deployment
        return await call_next(ctx)
