"""The dashboard summary's shape, for /openapi.json (documentation: the route renders dicts)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Percentiles(_Open):
    p50: float | None
    p95: float | None
    p99: float | None


class WindowPoint(_Open):
    """Rates and percentiles (ms) over the sliding window that ends at second `t` (Unix)."""

    t: int
    rps: float
    error_rate: float | None
    refused_rate: float | None
    cache_hit_rate: float | None
    cost_usd: float
    latency_ms: Percentiles
    ttft_ms: Percentiles


class DeploymentState(_Open):
    id: str
    model: str
    provider: str
    breaker: str  # closed, half_open or open
    ready: bool
    in_flight: int
    latency_ewma_ms: float | None
    window_successes: int  # upstream calls in the breaker's sliding window
    window_failures: int


class CatalogueModel(_Open):
    name: str
    default: bool


class SloTargets(_Open):
    """The targets of the objective the charts draw as lines (ms); absent when none."""

    objective: str | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    ttft_p50_ms: float | None = None
    ttft_p95_ms: float | None = None
    ttft_p99_ms: float | None = None
    error_rate: float | None = None


class DashboardSummary(_Open):
    object: str
    scope: str  # "cluster": every replica's traffic (Redis); "replica": this process's
    replica: str  # host:pid of the replica that answered
    replicas: int  # replicas whose traffic the numbers cover
    now: int
    window_s: int
    uptime_s: float
    requests_total: int
    active_requests: int
    keys_enabled: bool
    admin_api: bool  # /admin/* exists (a master key is set): spend and SLO reports
    series: list[WindowPoint]
    current: WindowPoint
    deployments: list[DeploymentState]
    models: list[CatalogueModel]
    spend_by_model: dict[str, float]
    slo: SloTargets
