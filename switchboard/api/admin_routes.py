"""The admin HTTP API: create, list, show and revoke keys; report usage.

Guarded by `Authorization: Bearer <master key>`. Without a configured master key the admin API
does not exist: every route answers 404, so an unconfigured gateway exposes no admin surface.
The master key is checked from the headers before any byte of the body is read; bodies are then
read within SWITCHBOARD_MAX_BODY_BYTES and validated by the same `KeySpec` as `keys create`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.openai_routes import json_response
from switchboard.config import Settings
from switchboard.errors import AuthenticationFailed, InvalidRequest
from switchboard.export import FORMATS, from_gateway, render
from switchboard.keys.errors import NotFound
from switchboard.keys.models import ApiKey, key_json
from switchboard.keys.spec import KeySpec, check_text
from switchboard.keys.usage_report import GroupBy, summarize, totals
from switchboard.pipeline.auth import bearer_token

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore

log = logging.getLogger("switchboard.admin")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.gateway.settings
    return settings


def _store(request: Request) -> KeyStore:
    store: KeyStore = request.app.state.gateway.keys
    return store


def require_master_key(request: Request) -> None:
    master = _settings(request).master_key
    expected = master.get_secret_value() if master is not None else ""
    if not expected:
        raise NotFound(f"Unknown path: {request.url.path}")
    token = bearer_token(request.headers.get("authorization")) or ""
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise AuthenticationFailed(
            "Admin API: send the master key as 'Authorization: Bearer <key>'.",
            code="invalid_master_key",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(prefix="/admin", dependencies=[Depends(require_master_key)])


def _text(value: str, param: str) -> str:
    """A path or query value that will reach the database: 400 rather than a driver error."""
    try:
        return check_text(value, param)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param=param, code="invalid_value") from None


def _optional_text(value: str | None, param: str) -> str | None:
    return None if value is None else _text(value, param)


def _no_such_key(key_id: str) -> NotFound:
    return NotFound(f"No API key with id {key_id!r}.", param="id", code="key_not_found")


async def _existing(store: KeyStore, key_id: str) -> ApiKey:
    key = await store.get(key_id)
    if key is None:
        raise _no_such_key(key_id)
    return key


@router.post("/keys")
async def create_key(request: Request) -> Response:
    spec = await parse_body(request, KeySpec, _settings(request).max_body_bytes)
    plaintext, key = await _store(request).create(spec.to_new_key())
    log.info("admin created api key id=%s tenant=%s", key.id, key.tenant)
    return json_response({"key": plaintext, "api_key": key_json(key, datetime.now(UTC))}, 201)


@router.get("/keys")
async def list_keys(
    request: Request, tenant: str | None = None, include_revoked: bool = True
) -> Response:
    tenant = _optional_text(tenant, "tenant")
    keys = await _store(request).list(tenant=tenant, include_revoked=include_revoked)
    now = datetime.now(UTC)
    return json_response({"object": "list", "data": [key_json(k, now) for k in keys]})


@router.get("/keys/{key_id}")
async def show_key(key_id: str, request: Request) -> Response:
    key = await _existing(_store(request), _text(key_id, "id"))
    return json_response(key_json(key, datetime.now(UTC)))


@router.post("/keys/{key_id}/revoke")
@router.delete("/keys/{key_id}")
async def revoke_key(key_id: str, request: Request) -> Response:
    key_id = _text(key_id, "id")
    store = _store(request)
    if not await store.revoke(key_id):
        raise _no_such_key(key_id)
    key = await _existing(store, key_id)
    log.info("admin revoked api key id=%s", key_id)
    return json_response(key_json(key, datetime.now(UTC)))


@router.get("/usage")
async def usage_report(
    request: Request,
    key_id: str | None = None,
    tenant: str | None = None,
    since: date | None = None,
    until: date | None = None,
    group_by: GroupBy | None = None,
) -> Response:
    """Usage from the daily table; `since` and `until` are inclusive UTC days."""
    if since is not None and until is not None and since > until:
        raise InvalidRequest("since is after until.", param="since")
    rows = await _store(request).usage(
        key_id=_optional_text(key_id, "key_id"),
        tenant=_optional_text(tenant, "tenant"),
        since=since,
        until=until,
    )
    body = {
        "object": "list",
        "group_by": group_by,
        "data": summarize(rows, group_by),
        "total": totals(rows),
    }
    return json_response(body)


@router.get("/architecture")
async def architecture(request: Request, fmt: str = Query("md", alias="format")) -> Response:
    """The architecture document of this gateway (catalogue, settings, live figures)."""
    if fmt not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(sorted(FORMATS))}.", param="format")
    arch = await from_gateway(request.app.state.gateway)
    document = await asyncio.to_thread(render, arch, fmt)
    name = f"switchboard-architecture.{FORMATS[fmt].suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(document, media_type=FORMATS[fmt].media_type, headers=headers)
