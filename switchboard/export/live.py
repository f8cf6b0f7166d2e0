"""Figures measured by a running gateway, read from its Prometheus metrics: request counts,
latency and time-to-first-token quantiles, cost, and each deployment's circuit state."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

_STATES = {0.0: "closed", 1.0: "half_open", 2.0: "open"}
QUANTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class ModelFigures:
    """What one public model did since the gateway started; quantiles in seconds."""

    requests: int
    errors: int
    latency: tuple[float | None, ...]  # p50, p95, p99
    ttft: tuple[float | None, ...]
    cost_usd: float


@dataclass(frozen=True, slots=True)
class LiveFigures:
    models: dict[str, ModelFigures] = field(default_factory=dict)
    circuits: dict[str, str] = field(default_factory=dict)
    stores: dict[str, bool] = field(default_factory=dict)


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile over cumulative (upper bound, count) buckets."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            share = (rank - below) / (count - below) if count > below else 0.0
            return lower + (upper - lower) * share
        lower, below = upper, count
    return lower


def _histograms(family: Metric | None, label: str) -> dict[str, list[tuple[float, float]]]:
    """Cumulative buckets per label value, summed over the other labels (e.g. endpoints)."""
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    merged: dict[tuple[str, float], float] = defaultdict(float)
    for sample in family.samples if family is not None else []:
        if sample.name.endswith("_bucket"):
            merged[(sample.labels[label], float(sample.labels["le"]))] += sample.value
    for (key, upper), count in merged.items():
        out[key].append((upper, count))
    return out


def _samples(by_name: dict[str, Metric], family: str, suffix: str) -> list[Sample]:
    found = by_name.get(family)
    return [s for s in found.samples if s.name == family + suffix] if found else []


def from_families(families: Iterable[Metric], stores: dict[str, bool] | None = None) -> LiveFigures:
    """Figures from metric families: a registry's collect() or a parsed /metrics page."""
    by_name = {f.name: f for f in families}
    requests: dict[str, int] = defaultdict(int)
    errors: dict[str, int] = defaultdict(int)
    for s in _samples(by_name, "switchboard_requests", "_total"):
        requests[s.labels["model"]] += int(s.value)
        if int(s.labels["status"]) >= 500:
            errors[s.labels["model"]] += int(s.value)
    cost: dict[str, float] = defaultdict(float)
    for s in _samples(by_name, "switchboard_cost_usd", "_total"):
        cost[s.labels["model"]] += s.value
    latency = _histograms(by_name.get("switchboard_request_duration_seconds"), "model")
    ttft = _histograms(by_name.get("switchboard_time_to_first_token_seconds"), "model")
    models = {
        name: ModelFigures(
            requests=requests[name],
            errors=errors[name],
            latency=tuple(quantile(q, latency.get(name, [])) for q in QUANTILES),
            ttft=tuple(quantile(q, ttft.get(name, [])) for q in QUANTILES),
            cost_usd=cost[name],
        )
        for name in sorted(set(requests) | set(latency))
    }
    circuits = {
        s.labels["deployment"]: _STATES.get(s.value, "unknown")
        for s in _samples(by_name, "switchboard_circuit_state", "")
    }
    return LiveFigures(models, circuits, dict(stores or {}))


def from_metrics_text(text: str) -> LiveFigures:
    """Figures from a running gateway's /metrics page (`export-architecture --from-url`)."""
    return from_families(text_string_to_metric_families(text))
