"""From a connection to the pipeline: the Gateway, the caller's key, and a RequestContext."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from switchboard.cache.facts import CacheFacts, directive_from_headers
from switchboard.domain import ChatRequest, EmbeddingRequest
from switchboard.gateway import Gateway
from switchboard.pipeline.auth import credential_from_headers
from switchboard.pipeline.context import RequestContext, open_context

if TYPE_CHECKING:
    from switchboard.keys.models import ApiKey


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


async def caller_key(conn: HTTPConnection, gateway: Gateway) -> ApiKey | None:
    """The caller's active key, from the headers alone, before any body is read; None when
    API keys are off. Raises AuthenticationFailed (401) otherwise."""
    if not gateway.settings.auth_required or gateway.authenticator is None:
        return None
    return await gateway.authenticator.authenticate(credential_of(conn))


def request_context(
    conn: HTTPConnection,
    endpoint: str,
    request: ChatRequest | EmbeddingRequest,
    key: ApiKey | None,
) -> RequestContext:
    """A context that starts when the request arrived, so parsing counts as overhead; the
    middleware renders its facts as headers."""
    state = conn.scope.setdefault("state", {})
    ctx = open_context(
        endpoint,
        request,
        key=key,
        request_id=state.get("request_id"),
        started=state.get("started"),
    )
    headers = conn.headers
    control, ours = headers.get("cache-control"), headers.get("x-switchboard-cache")
    if control is not None or ours is not None:
        ctx.cache = CacheFacts(directive_from_headers(control, ours))
    state["ctx"] = ctx
    return ctx
