"""Auth: the one place that turns a credential into an active API key, and the stage that
requires one (and checks that the key may use the requested model).

HTTP routes authenticate from the headers before they read a body, the WebSocket at its
handshake and per message, `/v1/usage` and workers likewise: all through `Authenticator`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from switchboard.domain import Reply
from switchboard.errors import AuthenticationFailed, PermissionDenied
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next

if TYPE_CHECKING:
    from switchboard.keys.models import ApiKey
    from switchboard.keys.store import KeyStore


def bearer_token(authorization: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>` (the scheme is case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def credential_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """`Authorization: Bearer sk-...` or `X-API-Key: sk-...`."""
    token = bearer_token(authorization)
    if token is not None:
        return token
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


def require_active(key: ApiKey) -> ApiKey:
    status = key.status(datetime.now(UTC))
    if status != "active":
        raise AuthenticationFailed(f"This API key is {status}.", code=f"api_key_{status}")
    return key


class Authenticator:
    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    async def authenticate(self, credential: str | None) -> ApiKey:
        """The active key for `credential`, or AuthenticationFailed saying why not."""
        if not credential:
            raise AuthenticationFailed(
                "Missing API key: send `Authorization: Bearer <key>` or `X-API-Key`.",
                code="missing_api_key",
            )
        key = await self._keys.authenticate(credential)
        if key is None:
            raise AuthenticationFailed("Invalid API key.")
        return require_active(key)


class AuthStage:
    """Sets `ctx.key`; nothing past this stage runs for an unauthenticated request. A key that
    the caller already authenticated (an HTTP route, a WebSocket, a worker) is not looked up
    again, but its status and its model permission are checked here, for every way in."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._auth = authenticator

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        key = ctx.key
        if key is None:
            key = ctx.key = await self._auth.authenticate(ctx.credential)
        else:
            require_active(key)
        if not key.allows_model(ctx.request.model):
            raise PermissionDenied(
                f"This API key may not use the model `{ctx.request.model}`.", param="model"
            )
        return await call_next(ctx)
