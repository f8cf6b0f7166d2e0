"""ASGI middleware: request id and the gateway-overhead header on every HTTP response."""

from __future__ import annotations

import random
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    """Accepts a sane client `X-Request-ID` or makes one; adds `X-Switchboard-Overhead-Ms`.

    Overhead is the time since the request arrived minus the time the pipeline spent waiting
    on the upstream (RequestContext.upstream_seconds), measured when the headers go out.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _VALID_ID.match(candidate):
                    request_id = candidate
                break
        if request_id is None:
            request_id = f"{random.getrandbits(128):032x}"  # no syscall, unlike uuid4
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = started
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = request_id
                ctx = state.get("ctx")
                if ctx is not None:
                    overhead = ctx.overhead_ms()
                    for key, value in ctx.response_headers.items():
                        headers[key] = value
                else:
                    overhead = (time.perf_counter() - started) * 1000.0
                headers["x-switchboard-overhead-ms"] = f"{overhead:.3f}"
            await send(message)

        await self.app(scope, receive, send_with_headers)
