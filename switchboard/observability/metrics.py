"""Prometheus metrics, fed by RequestFinished events; one registry per app, no globals."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from switchboard.observability.cache_metrics import CacheMetrics
from switchboard.observability.circuits import CircuitWatch
from switchboard.observability.events import RequestFinished
from switchboard.observability.job_metrics import JobMetrics

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)


class Metrics:
    """The gateway's Prometheus series; labels never carry keys or user text."""

    def __init__(self) -> None:
        self._endpoints: dict[str, _EndpointSeries] = {}
        self._models: dict[tuple[str, str], _ModelSeries] = {}
        self._deployments: dict[tuple[str, str, str, str], _DeploymentSeries] = {}
        self._public: frozenset[str] = frozenset()  # catalogue names: a refused one is a label
        self._circuits: CircuitWatch | None = None
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "switchboard_requests",
            "Requests by endpoint, model and HTTP status",
            ["endpoint", "model", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "switchboard_request_duration_seconds",
            "End-to-end request duration",
            ["endpoint", "model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "switchboard_time_to_first_token_seconds",
            "Time to the first streamed token",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "switchboard_overhead_seconds",
            "Time spent in the gateway, upstream excluded",
            ["endpoint"],
            buckets=_OVERHEAD_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "switchboard_tokens",
            "Tokens by model and direction (input/output/cached_input)",
            ["model", "direction"],
            registry=r,
        )
        self.cost = Counter(
            "switchboard_cost_usd", "Estimated cost in USD by model", ["model"], registry=r
        )
        self.active = Gauge(
            "switchboard_active_requests",
            "Requests in flight",
            ["endpoint"],
            registry=r,
            multiprocess_mode="livesum",  # serve --workers N: the sum over live workers
        )
        self.limit_store_errors = Counter(
            "switchboard_limits_store_errors",
            "Failures reaching the shared limits store (Redis)",
            ["kind"],
            registry=r,
        )
        self.settle_failures = Counter(
            "switchboard_limits_settle_failures",
            "Limit settlements (tokens, spend, slot release) not written to Redis at the first "
            "try: retried until written, or dropped when the queue overflowed",
            ["outcome"],
            registry=r,
        )
        self.truncated = Counter(
            "switchboard_stream_truncations",
            "Streams that ended in an error after the first byte",
            ["model"],
            registry=r,
        )
        self._add_deployment_families()
        self.cache = CacheMetrics(r)
        self.jobs = JobMetrics(r)

    def _add_deployment_families(self) -> None:
        """Series by serving deployment and provider, and the attempts and refusals."""
        r = self.registry
        by = ["endpoint", "model", "deployment", "provider"]
        self.dep_requests = Counter(
            "switchboard_deployment_requests",
            "Requests that reached a deployment, by the one that served (or failed) last",
            [*by, "status"],
            registry=r,
        )
        self.dep_duration = Histogram(
            "switchboard_deployment_request_duration_seconds",
            "End-to-end request duration by serving deployment",
            by,
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.dep_tokens = Counter(
            "switchboard_deployment_tokens",
            "Tokens by model, serving deployment and direction (input/output/cached_input)",
            ["model", "deployment", "provider", "direction"],
            registry=r,
        )
        self.upstream_retries = Counter(
            "switchboard_upstream_retries",
            "Upstream attempts after the first: kind=retry (same deployment) or failover",
            ["model", "kind"],
            registry=r,
        )
        self.limit_rejections = Counter(
            "switchboard_limit_rejections",
            "Requests refused by a key's or tenant's limits, by kind (rpm/tpm/concurrency/budget)",
            ["kind"],
            registry=r,
        )

    def know_models(self, names: Iterable[str]) -> None:
        """The catalogue's public names: a refused request keeps its model label if it is one."""
        self._public = frozenset(names)

    def request_started(self, endpoint: str) -> None:
        self._by_endpoint(endpoint).active.inc()

    def request_finished(self, event: RequestFinished) -> None:
        ep = self._by_endpoint(event.endpoint)
        if event.in_pipeline:
            ep.active.dec()
        ep.overhead.observe(event.overhead_s)
        model = event.model
        if event.deployment is None and event.requested_model in self._public:
            model = event.requested_model
        series = self._series(event.endpoint, model)
        status = series.statuses.get(event.status)
        if status is None:
            status = series.statuses[event.status] = self.requests.labels(
                event.endpoint, model, str(event.status)
            )
        status.inc()
        if event.deployment is not None:
            self._by_deployment(event)
        if event.retries:
            self.upstream_retries.labels(model, "retry").inc(event.retries)
        if event.failovers:
            self.upstream_retries.labels(model, "failover").inc(event.failovers)
        if event.limit is not None:
            self.limit_rejections.labels(event.limit).inc()
        circuits = self._circuits
        if circuits is not None and (
            circuits.unsettled or event.attempts > 1 or event.status >= 400
        ):
            circuits.check()
        series.duration.observe(event.latency_s)
        if event.ttft_s is not None:
            series.ttft.observe(event.ttft_s)
        if event.usage is not None:
            u = event.usage
            series.tokens_in.inc(u.prompt_tokens)
            series.tokens_out.inc(u.completion_tokens)
            if u.cached_tokens:
                self.tokens.labels(event.model, "cached_input").inc(u.cached_tokens)
        if event.cost_usd:
            series.cost.inc(event.cost_usd)
        if event.truncated:
            self.truncated.labels(event.model).inc()
        if event.cache is not None:
            self.cache.finished(event, model)

    def _by_deployment(self, event: RequestFinished) -> None:
        labels = (event.endpoint, event.model, event.deployment or "", event.provider or "")
        found = self._deployments.get(labels)
        if found is None:
            model, dep, provider = labels[1:]
            found = self._deployments[labels] = _DeploymentSeries(
                duration=self.dep_duration.labels(*labels),
                tokens_in=self.dep_tokens.labels(model, dep, provider, "input"),
                tokens_out=self.dep_tokens.labels(model, dep, provider, "output"),
            )
        status = found.statuses.get(event.status)
        if status is None:
            status = found.statuses[event.status] = self.dep_requests.labels(
                *labels, str(event.status)
            )
        status.inc()
        found.duration.observe(event.latency_s)
        if event.usage is not None:
            found.tokens_in.inc(event.usage.prompt_tokens)
            found.tokens_out.inc(event.usage.completion_tokens)

    def _by_endpoint(self, endpoint: str) -> _EndpointSeries:
        found = self._endpoints.get(endpoint)
        if found is None:
            found = self._endpoints[endpoint] = _EndpointSeries(
                self.active.labels(endpoint), self.overhead.labels(endpoint)
            )
        return found

    def _series(self, endpoint: str, model: str) -> _ModelSeries:
        """Labelled children, looked up once per (endpoint, model) instead of per request."""
        found = self._models.get((endpoint, model))
        if found is None:
            found = self._models[(endpoint, model)] = _ModelSeries(
                duration=self.duration.labels(endpoint, model),
                ttft=self.ttft.labels(model),
                tokens_in=self.tokens.labels(model, "input"),
                tokens_out=self.tokens.labels(model, "output"),
                cost=self.cost.labels(model),
            )
        return found

    def limits_store_error(self, kind: str) -> None:
        self.limit_store_errors.labels(kind).inc()

    def limits_settle_failure(self, outcome: str, count: int) -> None:
        self.settle_failures.labels(outcome).inc(count)

    def watch_circuits(self, states: Callable[[], dict[str, str]]) -> None:
        """Export each deployment's breaker state (read at scrape time) and log its changes."""
        self._circuits = CircuitWatch(states, self.registry)

    def render(self) -> bytes:
        """This process's series; under `serve --workers N` (prometheus_client's multiprocess
        mode) every worker's series summed, this worker's circuit states and the job table's
        queue gauges (read from the shared table, the same in every worker)."""
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        everyone = CollectorRegistry()
        multiprocess.MultiProcessCollector(everyone)
        body = generate_latest(everyone)
        own = CollectorRegistry()
        own.register(self.jobs.queue)
        if self._circuits is not None:
            own.register(self._circuits)
        return body + generate_latest(own)


@dataclass(slots=True)
class _EndpointSeries:
    active: Any
    overhead: Any


@dataclass(slots=True)
class _DeploymentSeries:
    duration: Any
    tokens_in: Any
    tokens_out: Any
    statuses: dict[int, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _ModelSeries:
    duration: Any
    ttft: Any
    tokens_in: Any
    tokens_out: Any
    cost: Any
    statuses: dict[int, Any] = field(default_factory=dict)
