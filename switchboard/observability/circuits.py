"""Circuit breaker states as a gauge, and their changes as log lines and a counter.

The breakers are read, not hooked: a change is noticed at the next look, which comes after any
request that failed or moved on (the only requests that can open a breaker), on every request
while some breaker is not closed, and at every scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("switchboard.breaker")

_CODES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}


class CircuitWatch(Collector):
    def __init__(self, states: Callable[[], dict[str, str]], registry: CollectorRegistry) -> None:
        self._states = states
        self._last = states()
        self.unsettled = any(s != "closed" for s in self._last.values())
        self.changes = Counter(
            "switchboard_circuit_transitions",
            "Circuit breaker state changes per deployment, by the state entered",
            ["deployment", "state"],
            registry=registry,
        )
        registry.register(self)

    def check(self) -> dict[str, str]:
        """Read every breaker; log and count the ones that changed since the last look."""
        now = self._states()
        for deployment, state in now.items():
            before = self._last.get(deployment, "closed")
            if state != before:
                self.changes.labels(deployment, state).inc()
                fields = {"deployment": deployment, "from_state": before, "state": state}
                level = logging.WARNING if state == "open" else logging.INFO
                log.log(level, "circuit breaker state changed", extra={"fields": fields})
        self._last = now
        self.unsettled = any(s != "closed" for s in now.values())
        return now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "switchboard_circuit_state",
            "Circuit breaker state per deployment (0 closed, 1 half-open, 2 open)",
            labels=["deployment"],
        )
        for deployment, state in self.check().items():
            family.add_metric([deployment], _CODES.get(state, -1.0))
        yield family
