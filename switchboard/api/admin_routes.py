"""The admin HTTP API: create, list, show and revoke keys; report usage.

Guarded by `Authorization: Bearer <master key>`. Without a configured master key the admin API
does not exist: every route answers 404, so an unconfigured gateway exposes no admin surface.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.responses import Response

from switchboard.api.openai_routes import json_response
from switchboard.config import Settings
from switchboard.errors import AuthenticationFailed, InvalidRequest
from switchboard.keys.errors import NotFound
from switchboard.keys.models import ApiKey, BudgetPeriod, NewKey, UsageRow, key_json
from switchboard.keys.tables import to_nanos, to_usd

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore

log = logging.getLogger("switchboard.admin")

GroupBy = Literal["key", "model", "day"]
USAGE_FIELDS = ("requests", "prompt_tokens", "completion_tokens", "cached_tokens")


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
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise AuthenticationFailed(
            "Admin API: send the master key as 'Authorization: Bearer <key>'.",
            code="invalid_master_key",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(prefix="/admin", dependencies=[Depends(require_master_key)])


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tenant: str = Field(min_length=1, max_length=200)
    allowed_models: list[Annotated[str, Field(min_length=1)]] | None = None
    rpm: int | None = Field(None, ge=1)
    tpm: int | None = Field(None, ge=1)
    max_concurrency: int | None = Field(None, ge=1)
    budget_usd: float | None = Field(None, ge=0)
    budget_period: BudgetPeriod = "total"
    expires_at: AwareDatetime | None = None

    def to_new_key(self) -> NewKey:
        models = tuple(self.allowed_models) if self.allowed_models is not None else None
        return NewKey(
            name=self.name,
            tenant=self.tenant,
            allowed_models=models,
            rpm=self.rpm,
            tpm=self.tpm,
            max_concurrency=self.max_concurrency,
            budget_usd=self.budget_usd,
            budget_period=self.budget_period,
            expires_at=self.expires_at,
        )


def _no_such_key(key_id: str) -> NotFound:
    return NotFound(f"No API key with id {key_id!r}.", param="id", code="key_not_found")


async def _existing(store: KeyStore, key_id: str) -> ApiKey:
    key = await store.get(key_id)
    if key is None:
        raise _no_such_key(key_id)
    return key


@router.post("/keys")
async def create_key(body: CreateKeyBody, request: Request) -> Response:
    now = datetime.now(UTC)
    if body.expires_at is not None and body.expires_at <= now:
        raise InvalidRequest("expires_at is in the past.", param="expires_at")
    plaintext, key = await _store(request).create(body.to_new_key())
    log.info("admin created api key id=%s tenant=%s", key.id, key.tenant)
    return json_response({"key": plaintext, "api_key": key_json(key, now)}, status=201)


@router.get("/keys")
async def list_keys(
    request: Request, tenant: str | None = None, include_revoked: bool = True
) -> Response:
    keys = await _store(request).list(tenant=tenant, include_revoked=include_revoked)
    now = datetime.now(UTC)
    return json_response({"object": "list", "data": [key_json(k, now) for k in keys]})


@router.get("/keys/{key_id}")
async def show_key(key_id: str, request: Request) -> Response:
    key = await _existing(_store(request), key_id)
    return json_response(key_json(key, datetime.now(UTC)))


@router.post("/keys/{key_id}/revoke")
@router.delete("/keys/{key_id}")
async def revoke_key(key_id: str, request: Request) -> Response:
    store = _store(request)
    if not await store.revoke(key_id):
        raise _no_such_key(key_id)
    key = await _existing(store, key_id)
    log.info("admin revoked api key id=%s", key_id)
    return json_response(key_json(key, datetime.now(UTC)))


def _labels(row: UsageRow, group_by: GroupBy | None) -> dict[str, Any]:
    if group_by == "key":
        return {"key_id": row.key_id, "tenant": row.tenant}
    if group_by == "model":
        return {"model": row.model}
    if group_by == "day":
        return {"day": row.day.isoformat()}
    return {
        "key_id": row.key_id,
        "tenant": row.tenant,
        "model": row.model,
        "day": row.day.isoformat(),
    }


def _totals(rows: Sequence[UsageRow]) -> dict[str, Any]:
    """Counters summed; cost summed in whole nano-dollars so that it stays exact."""
    out: dict[str, Any] = {name: sum(getattr(r, name) for r in rows) for name in USAGE_FIELDS}
    out["cost_usd"] = to_usd(sum(to_nanos(r.cost_usd) for r in rows))
    return out


def summarize(rows: Sequence[UsageRow], group_by: GroupBy | None) -> list[dict[str, Any]]:
    """One entry per group in first-seen order; without grouping, the daily rows themselves."""
    groups: dict[tuple[Any, ...], tuple[dict[str, Any], list[UsageRow]]] = {}
    for row in rows:
        labels = _labels(row, group_by)
        groups.setdefault(tuple(labels.values()), (labels, []))[1].append(row)
    return [{**labels, **_totals(members)} for labels, members in groups.values()]


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
    rows = await _store(request).usage(key_id=key_id, tenant=tenant, since=since, until=until)
    body = {
        "object": "list",
        "group_by": group_by,
        "data": summarize(rows, group_by),
        "total": _totals(rows),
    }
    return json_response(body)
