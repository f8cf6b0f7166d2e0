"""Auth stage: the request's API key must exist, be active and allow the requested model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from switchboard.domain import Reply
from switchboard.errors import AuthenticationFailed, PermissionDenied
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore


def credential_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """`Authorization: Bearer sk-...` or `X-API-Key: sk-...`."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


class AuthStage:
    """Sets `ctx.key`; nothing past this stage runs for an unauthenticated request."""

    def __init__(self, keys: KeyStore, *, required: bool) -> None:
        self._keys = keys
        self._required = required

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        if not self._required:
            return await call_next(ctx)
        if not ctx.credential:
            raise AuthenticationFailed(
                "Missing API key: send `Authorization: Bearer <key>` or `X-API-Key`.",
                code="missing_api_key",
            )
        key = await self._keys.authenticate(ctx.credential)
        if key is None:
            raise AuthenticationFailed("Invalid API key.")
        status = key.status(datetime.now(UTC))
        if status != "active":
            raise AuthenticationFailed(f"This API key is {status}.", code=f"api_key_{status}")
        if not key.allows_model(ctx.request.model):
            raise PermissionDenied(
                f"This API key may not use the model `{ctx.request.model}`.", param="model"
            )
        ctx.key = key
        return await call_next(ctx)
