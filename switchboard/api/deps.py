"""Access to the Gateway and a fresh RequestContext from inside a route."""

from __future__ import annotations

import time
import uuid

from starlette.requests import HTTPConnection

from switchboard.domain import ChatRequest, EmbeddingRequest
from switchboard.gateway import Gateway
from switchboard.pipeline.auth import credential_from_headers
from switchboard.pipeline.context import RequestContext


def gateway_of(conn: HTTPConnection) -> Gateway:
    gateway: Gateway = conn.app.state.gateway
    return gateway


def credential_of(conn: HTTPConnection) -> str | None:
    """The client's API key from the headers (or, for browsers' WebSockets, `?api_key=`)."""
    headers = conn.headers
    found = credential_from_headers(headers.get("authorization"), headers.get("x-api-key"))
    if found is None and conn.scope["type"] == "websocket":
        found = conn.scope.get("state", {}).get("query_api_key") or None  # see middleware.py
    return found


def new_context(
    conn: HTTPConnection, endpoint: str, request: ChatRequest | EmbeddingRequest
) -> RequestContext:
    """A context that starts when the request arrived, so parsing counts as overhead."""
    state = conn.scope.get("state", {})
    ctx = RequestContext(
        request_id=state.get("request_id") or uuid.uuid4().hex,
        endpoint=endpoint,
        request=request,
        started=state.get("started") or time.perf_counter(),
    )
    ctx.credential = credential_of(conn)
    state["ctx"] = ctx
    return ctx
