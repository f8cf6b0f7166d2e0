"""What the router knows about each deployment: breaker, in-flight count, latency, capacity use.

This is per process: capacity (rpm/tpm) protects an upstream quota from this replica's traffic;
limits shared across replicas live in the limits stage.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from switchboard.config import DeploymentConfig
from switchboard.routing.breaker import BreakerPolicy, CircuitBreaker

_EWMA_ALPHA = 0.2
_MINUTE = 60.0


@dataclass
class DeploymentHealth:
    deployment: DeploymentConfig
    breaker: CircuitBreaker
    clock: Callable[[], float] = time.monotonic
    in_flight: int = 0
    latency_ewma_s: float | None = None
    _requests: deque[float] = field(default_factory=deque)  # start times in the last minute
    _tokens: deque[tuple[float, int]] = field(default_factory=deque)

    def has_capacity(self) -> bool:
        now = self.clock()
        self._trim(now)
        d = self.deployment
        if d.rpm is not None and len(self._requests) >= d.rpm:
            return False
        return not (d.tpm is not None and sum(n for _, n in self._tokens) >= d.tpm)

    def started(self) -> None:
        self.in_flight += 1
        self._requests.append(self.clock())

    def finished(self, *, success: bool, latency_s: float | None, tokens: int = 0) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self.breaker.record(success)
        if success and latency_s is not None:
            prev = self.latency_ewma_s
            self.latency_ewma_s = (
                latency_s if prev is None else prev + _EWMA_ALPHA * (latency_s - prev)
            )
        if tokens:
            self._tokens.append((self.clock(), tokens))

    def abandoned(self) -> None:
        """The request ended without telling anything about the upstream (client went away)."""
        self.in_flight = max(0, self.in_flight - 1)
        self.breaker.release_probe()

    def _trim(self, now: float) -> None:
        horizon = now - _MINUTE
        while self._requests and self._requests[0] < horizon:
            self._requests.popleft()
        while self._tokens and self._tokens[0][0] < horizon:
            self._tokens.popleft()


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
