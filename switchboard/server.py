"""The HTTP server: uvicorn configured from Settings (connection bounds from
connection_guard.py), its logging, and a clean exit after a graceful SIGTERM shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from switchboard.config import Settings
from switchboard.connection_guard import ConnectionLimits, GuardedProtocol
from switchboard.observability import log_redaction
from switchboard.observability.log_format import configure_logging

log = logging.getLogger("switchboard.server")

STARTUP_FAILURE = 3
_FDS_KEPT = 64  # descriptors left for logs, stores and the listening socket


def connection_limit(wanted: int) -> int | None:
    """uvicorn's limit_concurrency: `wanted`, lowered to what the descriptor limit can hold.

    Each request holds two descriptors (the client's and the upstream's); beyond the limit new
    requests get a quick 503 instead of failing with EMFILE. The soft limit is raised to the hard.
    """
    if wanted == 0:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and hard != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    usable = max(1, (soft - _FDS_KEPT) // 2)
    if wanted > usable:
        log.warning("max_connections %d lowered to %d by the descriptor limit", wanted, usable)
        return usable
    return wanted


def setup_logging(settings: Settings) -> None:
    """Logs in the configured format; unknown SWITCHBOARD_* variables are warned about."""
    from switchboard.config_check import check_environment

    configure_logging(settings.log_format, settings.log_level)
    _, problems = check_environment(os.environ)
    for problem in problems:
        if problem.warning:
            log.warning(
                "unknown setting %s is ignored (typo?)",
                problem.field,
                extra={"fields": {"variable": problem.field}},
            )


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    limits = ConnectionLimits.from_settings(settings)
    protocol = type("GuardedHttpToolsProtocol", (GuardedProtocol,), {"limits": limits})
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # json: uvicorn's own lines go through the root handler, in the same format
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        access_log=settings.access_log,
        loop="auto",
        http=protocol,
        ws="auto",
        timeout_keep_alive=settings.keep_alive_timeout_s,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        limit_concurrency=connection_limit(settings.max_connections),
        backlog=settings.backlog,
    )


class _Terminated(Exception):
    """SIGTERM, re-raised by uvicorn once its graceful shutdown is done."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def serve(app: Any, settings: Settings, sockets: list[socket.socket] | None = None) -> int:
    """Run until SIGTERM/SIGINT; the exit status (0 after a graceful SIGTERM shutdown).
    `sockets`: listen on these (a prefork worker's) instead of binding host:port."""
    server = uvicorn.Server(server_config(app, settings))  # configures uvicorn's log handlers
    for name in ("", "uvicorn", "uvicorn.access"):
        log_redaction.install(logging.getLogger(name))
    # uvicorn restores this handler after draining, then raises the captured SIGTERM into it
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        server.run(sockets=sockets)
    except _Terminated:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else STARTUP_FAILURE


def serve_processes(settings: Settings, workers: int, build_app: Callable[[Settings], Any]) -> int:
    """`serve --workers N` (N > 1): a supervisor and N workers (see prefork.py). Import the app
    only through `build_app`, after this sets up prometheus_client's multiprocess mode."""
    from switchboard.prefork import serve_workers

    if settings.jobs_on or settings.auth_required:
        asyncio.run(_migrate_once(settings))

    def run_worker(sockets: list[socket.socket]) -> int:
        return serve(build_app(settings), settings, sockets)

    return serve_workers(settings, workers, run_worker, STARTUP_FAILURE)


async def _migrate_once(settings: Settings) -> None:
    """The database's tables and the key pepper, made once before the workers start (workers
    migrating at once would race to create the same tables, or two peppers)."""
    from switchboard.keys.store import SqlKeyStore

    store = SqlKeyStore.from_settings(settings)
    try:
        await store.migrate()
    finally:
        await store.aclose()


def serve_granian(settings: Settings, workers: int) -> int:
    """Serve with granian (Rust HTTP server) instead of uvicorn; its workers build the app from
    the environment (`granian_app`). uvicorn's connection guard does not apply here."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    if workers > 1:
        from switchboard.prefork import prepare_metrics_dir

        prepare_metrics_dir()
    Granian(
        "switchboard.server:granian_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        loop=Loops.uvloop,
        backlog=settings.backlog,
        log_access=settings.access_log,
        workers_kill_timeout=settings.graceful_shutdown_s or None,
    ).serve()
    return 0


def granian_app() -> Any:
    """The app for a granian worker, from SWITCHBOARD_* settings (the CLI sets them)."""
    from switchboard.app import create_app

    settings = Settings()
    setup_logging(settings)
    return create_app(settings)
