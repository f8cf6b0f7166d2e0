"""`GET /admin/slo` (master key): each objective's targets, actuals, violations and burn rates.

The models below are the response's documented, stable shape (the dashboard reads it); the
numbers come from `observability/slo_report.py`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from switchboard.api.admin_routes import require_master_key
from switchboard.api.openai_routes import json_response
from switchboard.errors import NotFoundError
from switchboard.observability.slo_share import SloBoard


class Quantiles(BaseModel):
    """Seconds at each quantile; null when the window holds no observation."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


class SloTargets(BaseModel):
    latency_s: dict[Literal["p50", "p95", "p99"], float]
    ttft_s: dict[Literal["p50", "p95", "p99"], float]
    error_rate: float | None = Field(description="allowed fraction of 5xx answers")


class SloActual(BaseModel):
    requests: int = Field(description="requests in the percentile window (refusals included)")
    latency_s: Quantiles = Field(description="end-to-end latency of successful requests")
    ttft_s: Quantiles = Field(description="time to first token of successful streams")
    error_rate: float | None = Field(description="5xx / requests in the window")


class SloViolation(BaseModel):
    objective: str = Field(description="`latency_s.p95`, `ttft_s.p99`, `error_rate`, ...")
    target: float
    actual: float


class SloAlert(BaseModel):
    objective: str
    severity: Literal["page", "ticket"]
    windows: list[str] = Field(description="the long and the short window, both over threshold")
    threshold: float


class SloObjective(BaseModel):
    name: str
    endpoint: str = Field(description="`*` matches every endpoint")
    model: str = Field(description="`*` matches every model")
    window_s: int = Field(description="the sliding window of the percentiles and error rate")
    targets: SloTargets
    actual: SloActual
    violations: list[SloViolation]
    burn_rate: dict[str, dict[Literal["5m", "1h", "6h"], float | None]] = Field(
        description="per budget (`error_rate`, `latency_s.p95`, ...): bad fraction over the"
        " allowed fraction in each window; 1.0 spends exactly the budget, null: no requests"
    )
    alerts: list[SloAlert] = Field(description="multi-window burn-rate alerts firing now")
    ok: bool = Field(description="no violation in the percentile window")


class SloReport(BaseModel):
    object: Literal["slo.report"]
    generated_at: str
    scope: Literal["replica", "cluster"] = Field(
        description="cluster: merged from every replica through Redis; replica: this one only"
    )
    bucket_s: int = Field(description="the windows slide by this many seconds")
    objectives: list[SloObjective]


router = APIRouter(prefix="/admin", dependencies=[Depends(require_master_key)])


@router.get("/slo", response_model=SloReport, summary="SLO targets, actuals and burn rates")
async def slo_report(request: Request) -> Response:
    """Targets, actuals over each objective's window (p50/p95/p99 latency and TTFT from
    mergeable sketches, error rate), violations, and error-budget burn over 5m/1h/6h."""
    board: SloBoard | None = request.app.state.gateway.slo
    if board is None:
        raise NotFoundError("This gateway tracks no service-level objectives.")
    return json_response(await board.report())
