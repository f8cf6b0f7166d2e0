"""The web dashboard: its page and assets at `/dashboard`, its data at `/dashboard/api/summary`.

The page and the assets (switchboard/web/) hold no data and are open; everything the page shows
comes from JSON routes that need the master key when the gateway has one (the page keeps the
key in sessionStorage and sends it as a bearer header). A gateway with neither a master key nor
API keys is open to everyone, and so is its dashboard data, like /metrics.
"""

from __future__ import annotations

import os
import socket
import time
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from switchboard.api.dashboard_schema import DashboardSummary
from switchboard.api.deps import gateway_of
from switchboard.api.openai_routes import json_response
from switchboard.api.openapi_models import ErrorEnvelope
from switchboard.catalogue import SloConfig
from switchboard.gateway import Gateway
from switchboard.observability.live import LiveStats

WEB = files("switchboard.web")
# the page loads only its own files, talks only to its own origin, and is never framed
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def dashboard_access(request: Request) -> None:
    """The master key when the gateway has one; a gateway open to all has open numbers."""
    settings = gateway_of(request).settings
    if settings.master_key is None and not settings.auth_required:
        return
    from switchboard.api.admin_routes import require_master_key

    require_master_key(request)


page = APIRouter()
data = APIRouter(dependencies=[Depends(dashboard_access)])


@page.get("/dashboard", response_class=HTMLResponse, summary="The web dashboard (HTML page)")
async def dashboard_page() -> Response:
    return FileResponse(str(WEB / "index.html"), media_type="text/html", headers=_PAGE_HEADERS)


def assets() -> StaticFiles:
    """The page's scripts, styles and the vendored chart library (`/dashboard/assets/...`)."""
    return StaticFiles(directory=str(WEB / "assets"))


def _deployments(gateway: Gateway) -> list[dict[str, Any]]:
    ready = gateway.readiness()
    models = {d.id: m.name for m in gateway.catalogue.models for d in m.deployments}
    out = []
    for health in gateway.board.all():
        dep = health.deployment
        ewma = health.latency_ewma_s
        ok, failed = health.breaker.window()
        out.append(
            {
                "id": dep.id,
                "model": models.get(dep.id, ""),
                "provider": dep.provider,
                "breaker": health.breaker.state.value,
                "ready": ready.get(dep.id, False),
                "in_flight": health.in_flight,
                "latency_ewma_ms": round(ewma * 1000, 3) if ewma is not None else None,
                "window_successes": ok,
                "window_failures": failed,
            }
        )
    return out


def _headline(objectives: list[SloConfig], default_model: str) -> SloConfig | None:
    """The objective the charts draw: one for all traffic, else the default model's."""
    for wanted in (("*", "*"), ("*", default_model)):
        for objective in objectives:
            if (objective.endpoint, objective.model) == wanted:
                return objective
    return objectives[0] if objectives else None


def slo_targets(gateway: Gateway) -> dict[str, Any]:
    """The SLO lines the charts draw, in ms (the tracker's objectives); {} when there is none."""
    board = gateway.slo
    objective = _headline(board.tracker.objectives, gateway.default_model) if board else None
    if objective is None:
        return {}
    out: dict[str, Any] = {"objective": objective.id, "error_rate": objective.error_rate}
    for metric, targets in (("latency", objective.latency_s), ("ttft", objective.ttft_s)):
        for q in ("p50", "p95", "p99"):
            seconds = targets.get(q)
            out[f"{metric}_{q}_ms"] = seconds * 1000 if seconds is not None else None
    return out


@data.get(
    "/dashboard/api/summary",
    summary="Live traffic summary for the web dashboard",
    responses={
        200: {"model": DashboardSummary, "description": "OK"},
        "default": {"model": ErrorEnvelope, "description": "An error, in the OpenAI envelope"},
    },
)
async def dashboard_summary(
    request: Request,
    since: int | None = Query(None, ge=0, le=2**40, description="Unix second already shown"),
    window: int = Query(10, ge=1, le=60, description="sliding window of each point, seconds"),
    history: int = Query(300, ge=1, le=540, description="most points returned"),
) -> Response:
    gateway = gateway_of(request)
    live: LiveStats = gateway.live
    now = time.time()
    body = {
        "object": "dashboard.summary",
        "scope": "replica",  # this process's traffic (no Redis, or Redis away)
        "replica": f"{socket.gethostname()}:{os.getpid()}",
        "replicas": 1,
        "now": int(now),
        "window_s": window,
        "uptime_s": round(now - live.started_at, 3),
        "keys_enabled": gateway.keys is not None,
        "admin_api": gateway.settings.master_key is not None,
        "deployments": _deployments(gateway),
        "models": [
            {"name": m.name, "default": m.name == gateway.default_model}
            for m in gateway.catalogue.models
        ],
        "slo": slo_targets(gateway),
    }
    shared = gateway.live_share
    cluster = await shared.view(since, window, history) if shared is not None else None
    if cluster is not None:  # every replica's seconds, merged (Redis)
        body |= {"scope": "cluster", **cluster}
    else:
        body |= {
            "requests_total": live.requests_total,
            "active_requests": sum(h.in_flight for h in gateway.board.all()),
            "series": live.series(since, window, history),
            "current": live.summary(int(now) - 1, window),
            "spend_by_model": {k: round(v, 9) for k, v in sorted(live.cost_by_model.items())},
        }
    response = json_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response
