"""A routing plan: the deployments to try for one request, in order."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.catalogue import DeploymentConfig
from switchboard.providers.base import Provider
from switchboard.routing.health import DeploymentHealth


@dataclass(slots=True)
class Candidate:
    model: str  # the public model this deployment belongs to (the requested one or a fallback)
    health: DeploymentHealth
    provider: Provider
    drop_unsupported: bool = False  # the model's `drop_unsupported_params`

    @property
    def deployment(self) -> DeploymentConfig:
        return self.health.deployment
