"""Liveness, readiness and Prometheus metrics; open routes, no auth."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from switchboard import __version__
from switchboard.api.deps import gateway_of
from switchboard.api.openai_routes import json_response
from switchboard.errors import AuthenticationFailed
from switchboard.pipeline.auth import bearer_token

router = APIRouter()


@router.api_route("/health", methods=["GET", "HEAD"])
async def health() -> Response:
    return json_response({"status": "ok", "version": __version__})


@router.api_route("/ready", methods=["GET", "HEAD"])
async def ready(request: Request) -> Response:
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is None:
        return json_response({"status": "starting", "deployments": {}}, status=503)
    deployments = gateway.readiness()
    stores, serving = await gateway.store_health()
    ok = all(deployments.values()) and serving
    body = {
        "status": "ready" if ok else "not_ready",
        "catalogue": [m.name for m in gateway.catalogue.models],
        "deployments": deployments,
        "stores": stores,
        "circuits": gateway.board.circuit_states(),
    }
    return json_response(body, status=200 if ok else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    gateway = gateway_of(request)
    token = gateway.settings.metrics_token
    if token is not None:
        sent = bearer_token(request.headers.get("authorization")) or ""
        if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
            raise AuthenticationFailed("This metrics endpoint needs its bearer token.")
    if gateway.jobs is not None:
        await gateway.jobs.depth.refresh()  # the queue gauges, from the shared job table
    return Response(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)
