"""What the router knows about each deployment: breaker, in-flight count, latency.

A deployment's known upstream quota (rpm/tpm) is not tracked here: it is enforced once, in the
shared limiter (routing/quota.py), so the whole fleet draws on one quota.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.catalogue import DeploymentConfig
from switchboard.routing.breaker import BreakerPolicy, CircuitBreaker

_EWMA_ALPHA = 0.2


@dataclass
class DeploymentHealth:
    deployment: DeploymentConfig
    breaker: CircuitBreaker
    clock: Callable[[], float] = time.monotonic
    in_flight: int = 0
    latency_ewma_s: float | None = None

    def started(self) -> None:
        self.in_flight += 1

    def finished(self, *, success: bool, latency_s: float | None) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self.breaker.record(success)
        if success and latency_s is not None:
            prev = self.latency_ewma_s
            self.latency_ewma_s = (
                latency_s if prev is None else prev + _EWMA_ALPHA * (latency_s - prev)
            )

    def abandoned(self) -> None:
        """The request ended without telling anything about the upstream (client went away)."""
        self.in_flight = max(0, self.in_flight - 1)
        self.breaker.release_probe()


class HealthBoard:
    """One DeploymentHealth per deployment id, built at start-up."""

    def __init__(
        self,
        deployments: list[DeploymentConfig],
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._by_id = {
            d.id: DeploymentHealth(d, CircuitBreaker(policy, clock), clock) for d in deployments
        }

    def __getitem__(self, deployment_id: str) -> DeploymentHealth:
        return self._by_id[deployment_id]

    def all(self) -> list[DeploymentHealth]:
        return list(self._by_id.values())

    def circuit_states(self) -> dict[str, str]:
        return {name: h.breaker.state.value for name, h in self._by_id.items()}
