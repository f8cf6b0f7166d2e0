"""Run the gateway and the mock upstream on loopback from tests and benchmarks.

Servers run in a background event loop thread so that sync and async clients (the `openai`
SDK, httpx, websockets) talk to them over real HTTP, exactly as users do.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import uvicorn
from aiohttp import web

from switchboard.app import create_app
from switchboard.config import Settings
from switchboard.testing.mock_provider import MockProvider

T = TypeVar("T")


class BackgroundLoop:
    """An event loop in a daemon thread; `run` executes a coroutine there and waits for it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class MockUpstream:
    def __init__(self, provider: MockProvider, port: int) -> None:
        self.provider = provider
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"

    def get(self, path: str) -> Any:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5).json()

    def last_request(self) -> dict[str, Any]:
        return self.get("/mock/last_request")  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        return self.get("/mock/stats")  # type: ignore[no-any-return]


class GatewayServer:
    def __init__(self, server: uvicorn.Server, port: int) -> None:
        self.server = server
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/v1"

    @property
    def gateway(self) -> Any:
        return self.server.config.app.state.gateway  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def run_gateway(
    background: BackgroundLoop, settings: Settings, *, tracer_provider: Any = None
) -> Iterator[GatewayServer]:
    """Start a real uvicorn server for `settings` and stop it afterwards."""
    port = free_port()
    app = create_app(settings, tracer_provider=tracer_provider)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    serving: list[asyncio.Task[None]] = []

    async def start() -> None:
        serving.append(asyncio.get_running_loop().create_task(server.serve()))
        for _ in range(1200):
            if server.started:
                return
            if serving[0].done():
                serving[0].result()  # the server failed to start: raise its error
            await asyncio.sleep(0.05)
        raise RuntimeError("gateway did not start")

    background.run(start(), timeout=90)
    try:
        yield GatewayServer(server, port)
    finally:
        server.should_exit = True

        async def wait_stopped() -> None:
            await asyncio.wait(serving, timeout=30)  # serve() returns once shutdown is done

        background.run(wait_stopped(), timeout=60)


Handler = Callable[[web.Request], Coroutine[Any, Any, Any]]


@contextmanager
def chat_upstream(background: BackgroundLoop, handler: Handler) -> Iterator[str]:
    """A scripted upstream whose `POST /v1/chat/completions` is `handler`, on a free loopback
    port; yields its base URL (ending in /v1)."""
    with post_server(background, "/v1/chat/completions", handler) as base:
        yield f"{base}/v1"


@contextmanager
def post_server(background: BackgroundLoop, path: str, handler: Handler) -> Iterator[str]:
    """An aiohttp server whose `POST <path>` is `handler` (a scripted upstream, an OTLP
    receiver), on a free loopback port; yields `http://127.0.0.1:<port>`."""
    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app)

    async def start() -> int:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    port = background.run(start())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        background.run(runner.cleanup())


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
