"""Route stage: resolve the public model name to one of its deployments."""

from __future__ import annotations

import random
from collections.abc import Mapping

from switchboard.config import Catalogue, DeploymentConfig, ModelConfig
from switchboard.domain import Reply
from switchboard.errors import ModelNotFound
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.providers.base import Provider


class RouteStage:
    """Picks a deployment by weight; smarter strategies and failover arrive with routing/."""

    def __init__(
        self,
        catalogue: Catalogue,
        providers: Mapping[str, Provider],
        rng: random.Random | None = None,
    ) -> None:
        self._models: dict[str, ModelConfig] = {m.name: m for m in catalogue.models}
        self._providers = providers
        self._rng = rng or random.Random()

    def resolve(self, name: str) -> ModelConfig:
        model = self._models.get(name)
        if model is None:
            raise ModelNotFound(
                f"The model `{name}` does not exist or you do not have access to it.", param="model"
            )
        return model

    def pick(self, model: ModelConfig) -> DeploymentConfig:
        deployments = model.deployments
        if len(deployments) == 1:
            return deployments[0]
        return self._rng.choices(deployments, weights=[d.weight for d in deployments])[0]

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        deployment = self.pick(self.resolve(ctx.request.model))
        ctx.deployment = deployment
        ctx.provider = self._providers[deployment.id]
        ctx.response_headers["x-switchboard-deployment"] = deployment.id
        return await call_next(ctx)
