"""create_app(settings): build the Gateway in the lifespan and mount the routes; nothing else."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from switchboard import __version__
from switchboard.api import (
    anthropic_routes,
    batch_routes,
    completions_routes,
    dashboard_routes,
    documents_routes,
    health,
    jobs_routes,
    openai_routes,
    rag_routes,
    responses_routes,
    simple_routes,
    usage_routes,
    websocket,
)
from switchboard.api.errors import install_error_handlers
from switchboard.api.middleware import RequestIdMiddleware
from switchboard.api.openapi import install_openapi
from switchboard.config import Settings
from switchboard.gateway import Gateway

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def tune_gc(threshold: int) -> None:
    """Move start-up objects out of the collector's sight and collect young objects less often.

    Measured in bench/overhead: the default thresholds made every request pay ~150 us of
    collections walking ~130k long-lived objects that the imports left behind.
    """
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, 20, 20)


def create_app(
    settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The app; `tracer_provider` (OpenTelemetry SDK) receives the spans of an embedder's own
    choosing, otherwise the OTEL_* variables decide (off by default)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = Gateway.build(settings, tracer_provider)
        await gateway.start()
        app.state.gateway = gateway
        tune_gc(settings.gc_threshold)
        try:
            yield
        finally:
            await gateway.aclose()

    app = FastAPI(
        title="Switchboard",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    for module in (
        openai_routes,
        completions_routes,
        simple_routes,
        websocket,
        usage_routes,
        health,
    ):
        app.include_router(module.router)
    app.include_router(anthropic_routes.router)
    app.include_router(responses_routes.router)  # its lifespan builds the response store
    app.include_router(jobs_routes.router)
    app.include_router(batch_routes.router)
    app.include_router(documents_routes.router)  # its lifespan builds the RAG services
    app.include_router(rag_routes.router)
    app.include_router(dashboard_routes.page)
    app.include_router(dashboard_routes.data)
    app.mount("/dashboard/assets", dashboard_routes.assets(), name="dashboard-assets")
    if settings.master_key is not None:  # no master key, no admin surface at all
        from switchboard.api import admin_routes, cache_routes, cost_routes, slo_routes

        app.include_router(admin_routes.router)
        app.include_router(slo_routes.router)
        app.include_router(cost_routes.router)
        app.include_router(cache_routes.router)
    install_openapi(app)
    app.add_middleware(RequestIdMiddleware)
    return app
