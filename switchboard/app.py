"""create_app(settings): build the Gateway in the lifespan and mount the routes; nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from switchboard import __version__
from switchboard.api import (
    admin_routes,
    health,
    openai_routes,
    simple_routes,
    usage_routes,
    websocket,
)
from switchboard.api.errors import install_error_handlers
from switchboard.api.middleware import RequestIdMiddleware
from switchboard.config import Settings
from switchboard.gateway import Gateway


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = Gateway.build(settings)
        await gateway.start()
        app.state.gateway = gateway
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
    )
    install_error_handlers(app)
    for module in (openai_routes, simple_routes, websocket, usage_routes, admin_routes, health):
        app.include_router(module.router)
    app.add_middleware(RequestIdMiddleware)
    return app
