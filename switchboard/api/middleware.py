"""ASGI middleware: request id and the gateway-overhead header on every HTTP response."""

from __future__ import annotations

import re
import time
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api.headers import context_headers
from switchboard.pipeline.context import new_request_id

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
            request_id = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = started
        if scope["type"] == "websocket":
            _take_query_key(scope, state)
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # append raw header pairs: cheaper than MutableHeaders on the hot path
                headers = message.setdefault("headers", [])
                if not isinstance(headers, list):
                    headers = message["headers"] = list(headers)
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                ctx = state.get("ctx")
                if ctx is not None:
                    overhead = ctx.overhead_ms()
                    decided = context_headers(ctx)
                    if decided:
                        present = {name.lower() for name, _ in headers}
                        # the response's own value wins (e.g. an error's Retry-After)
                        headers.extend(pair for pair in decided if pair[0] not in present)
                else:
                    overhead = (time.perf_counter() - started) * 1000.0
                headers.append((b"x-switchboard-overhead-ms", f"{overhead:.3f}".encode()))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _take_query_key(scope: Scope, state: dict[str, object]) -> None:
    """Move `?api_key=` (browsers cannot set WebSocket headers) out of the query string, which
    servers write to their logs, into the request state."""
    raw: bytes = scope.get("query_string", b"")
    if b"api_key=" not in raw:
        return
    kept = []
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"api_key":
            state["query_api_key"] = unquote_to_bytes(value).decode("utf-8", "replace")
        elif pair:
            kept.append(pair)
    scope["query_string"] = b"&".join(kept)
