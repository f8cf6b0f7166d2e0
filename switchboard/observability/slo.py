"""SloTracker: an event subscriber that keeps each objective's last hours in one-minute buckets.

Objectives come from the catalogue (`slos:`), or one per public model with DEFAULT_TARGETS.
The series are the objectives themselves, so memory is bounded by configuration: no key, tenant
or client text is ever a bucket. The report (`slo_report.py`) reads the buckets, merged across
replicas by `slo_share.py` when Redis is configured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from switchboard.catalogue import Catalogue, SloConfig
from switchboard.observability.events import RequestFinished
from switchboard.observability.sketch import BUCKET_S, Minute

HISTORY_S = 6 * 3600  # the longest burn-rate window
CLIENT_CLOSED = 499
DEFAULT_TARGETS: dict[str, object] = {
    "latency_s": {"p50": 2.0, "p95": 10.0, "p99": 30.0},
    "ttft_s": {"p50": 0.5, "p95": 2.0, "p99": 5.0},
    "error_rate": 0.01,
}


def objectives_of(catalogue: Catalogue) -> list[SloConfig]:
    """The configured objectives, else one per public model with the default targets."""
    if catalogue.slos is not None:
        return list(catalogue.slos)
    return [
        SloConfig.model_validate({"model": m.name, **DEFAULT_TARGETS}) for m in catalogue.models
    ]


def _covers(objective: SloConfig, endpoint: str, model: str) -> bool:
    """Whether a request counts against an objective; `*` means every client-facing endpoint
    (the gateway's own calls, `internal.*`, count only where an objective names them)."""
    if objective.model not in ("*", model):
        return False
    if objective.endpoint == "*":
        return not endpoint.startswith("internal.")
    return objective.endpoint == endpoint


class SloTracker:
    """Counts and sketches per objective and minute; quick enough for the request path
    (a dictionary look-up per request, two sketch insertions per matching objective)."""

    def __init__(
        self,
        objectives: Iterable[SloConfig],
        models: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.objectives = list(objectives)
        self._models = frozenset(models)
        self._clock = clock
        self._minutes: dict[str, dict[int, Minute]] = {o.id: {} for o in self.objectives}
        self._matches: dict[tuple[str, str], list[SloConfig]] = {}
        self.dirty: set[tuple[str, int]] = set()  # (objective, minute) not yet shared

    def request_started(self, endpoint: str) -> None:
        pass

    def request_finished(self, event: RequestFinished) -> None:
        if not event.in_pipeline or event.status == CLIENT_CLOSED:
            return  # answered before any model was involved, or abandoned by the client
        model = event.model
        if event.deployment is None and event.requested_model in self._models:
            model = event.requested_model
        found = self._matches.get((event.endpoint, model))
        if found is None:
            found = self._matches[(event.endpoint, model)] = [
                o for o in self.objectives if _covers(o, event.endpoint, model)
            ]
        if found:
            self.observe(found, event.status, event.latency_s, event.ttft_s)

    def observe(
        self, objectives: list[SloConfig], status: int, latency_s: float, ttft_s: float | None
    ) -> None:
        """Count one request against each objective it falls under."""
        minute = int(self._clock() // BUCKET_S)
        for o in objectives:
            m = self._minute(o, minute)
            m.total += 1
            if status >= 500:
                m.errors += 1
                continue
            if status >= 400:
                continue  # refused: counted for availability, its latency says nothing
            m.good_latency += 1
            assert m.latency is not None
            m.latency.add(latency_s)
            for q, target in o.latency_s.items():
                if latency_s > target:
                    m.slow[f"latency:{q}"] = m.slow.get(f"latency:{q}", 0) + 1
            if ttft_s is not None:
                m.good_ttft += 1
                assert m.ttft is not None
                m.ttft.add(ttft_s)
                for q, target in o.ttft_s.items():
                    if ttft_s > target:
                        m.slow[f"ttft:{q}"] = m.slow.get(f"ttft:{q}", 0) + 1

    def _minute(self, objective: SloConfig, minute: int) -> Minute:
        minutes = self._minutes[objective.id]
        found = minutes.get(minute)
        if found is None:
            found = minutes[minute] = Minute()
            self._forget(objective, minutes, minute)
        self.dirty.add((objective.id, minute))
        return found

    @staticmethod
    def _forget(objective: SloConfig, minutes: dict[int, Minute], now: int) -> None:
        """Drop buckets older than the longest window, and sketches older than the objective's
        percentile window (their counts stay for the burn rates)."""
        oldest = now - HISTORY_S // BUCKET_S
        sketch_oldest = now - objective.window_s // BUCKET_S
        for minute in [m for m in minutes if m <= oldest]:
            del minutes[minute]
        for minute, bucket in minutes.items():
            if minute <= sketch_oldest and bucket.latency is not None:
                bucket.latency = bucket.ttft = None

    def now_minute(self) -> int:
        return int(self._clock() // BUCKET_S)

    def minutes(self, objective_id: str) -> dict[int, Minute]:
        """This replica's buckets of one objective (read-only for callers)."""
        return self._minutes[objective_id]

    def take_dirty(self) -> list[tuple[str, int, Minute]]:
        """The buckets changed since the last call, for sharing with the other replicas."""
        out = []
        for objective_id, minute in sorted(self.dirty):
            bucket = self._minutes[objective_id].get(minute)
            if bucket is not None:
                out.append((objective_id, minute, bucket))
        self.dirty.clear()
        return out
