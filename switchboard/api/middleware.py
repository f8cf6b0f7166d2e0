"""ASGI middleware: request id and the gateway-overhead header on every HTTP response; the
caller's `traceparent` handed to the pipeline, and one log line (and metric) for each request
answered outside the pipeline (a 401 from the headers, a 400 body, a 404 path)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api.headers import context_headers
from switchboard.observability.request_log import outside_pipeline
from switchboard.observability.trace import (
    CallerTags,
    TraceParent,
    incoming_caller,
    incoming_trace,
)
from switchboard.pipeline.context import new_request_id

_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# probes, scrapes and the dashboard's page and polls: no line if ok
_QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})
_QUIET_PREFIX = "/dashboard"


class RequestIdMiddleware:
    """Accepts a sane client `X-Request-ID` or makes one; adds `X-Switchboard-Overhead-Ms`.

    Overhead is the time since the request arrived minus the time the pipeline spent waiting
    on the upstream (RequestContext.upstream_seconds), measured when the headers go out.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, _on_startup(scope, send))
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = traceparent = None
        tagged: list[tuple[bytes, bytes]] = []  # *-Session-Id / *-User-Id candidates
        for name, value in scope["headers"]:
            if name == b"x-request-id" and request_id is None:
                candidate = value.decode("latin-1")
                request_id = candidate if _VALID_ID.match(candidate) else ""
            elif name == b"traceparent" and traceparent is None:
                traceparent = value.decode("latin-1")
            elif name.endswith(b"-id"):
                tagged.append((name, value))
        if not request_id:
            request_id = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = started
        parent = TraceParent.parse(traceparent)
        token = incoming_trace.set(parent)
        caller_token = incoming_caller.set(CallerTags.from_headers(tagged) if tagged else None)
        try:
            if scope["type"] == "websocket":
                _take_query_key(scope, state)
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, state)
        finally:
            incoming_trace.reset(token)
            incoming_caller.reset(caller_token)

    async def _http(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]
    ) -> None:
        request_id: str = state["request_id"]
        started: float = state["started"]
        status = 499  # no response started: the client went away first

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
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

        try:
            await self.app(scope, receive, send_with_headers)
        except BaseException:
            status = 500 if status == 499 else status
            raise
        finally:
            ctx = state.get("ctx")
            if ctx is None or not ctx.recorded:  # the record stage writes the others' lines
                _record_outside(scope, state, status, started)


def _record_outside(scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
    path = scope["path"]
    if status < 400 and (path in _QUIET_PATHS or path.startswith(_QUIET_PREFIX)):
        return
    gateway = getattr(scope["app"].state, "gateway", None) if "app" in scope else None
    if gateway is None:
        return
    parent = incoming_trace.get()
    gateway.bus.finished(
        outside_pipeline(
            request_id=state["request_id"],
            endpoint="other",  # a bounded label: the path is the client's text
            status=status,
            outcome=state.get("error_code") or ("ok" if status < 400 else "error"),
            latency_s=time.perf_counter() - started,
            trace_id=parent.trace_id if parent is not None else None,
        )
    )


def _on_startup(scope: Scope, send: Send) -> Send:
    """Once the gateway is built, tell the metrics the catalogue's names (bounded labels)."""

    async def watch(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete" and "app" in scope:
            gateway = getattr(scope["app"].state, "gateway", None)
            if gateway is not None:
                gateway.metrics.know_models(m.name for m in gateway.catalogue.models)
        await send(message)

    return watch


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
