"""`GET /admin/cost` (master key): spend by model, tenant, key and day, the top spenders, and
month-end projections against budgets, from the usage table (`keys/cost_report.py`).

The models below document the response's stable shape (the dashboard reads it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from switchboard.api.admin_routes import require_master_key
from switchboard.api.openai_routes import json_response
from switchboard.errors import InvalidRequest, NotFoundError
from switchboard.keys.cost_report import build_cost_report
from switchboard.keys.usage_report import totals


class Spend(BaseModel):
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: float


class ModelSpend(Spend):
    model: str


class TenantSpend(Spend):
    tenant: str


class DaySpend(Spend):
    day: str = Field(description="UTC day, YYYY-MM-DD")


class KeySpend(Spend):
    key_id: str
    name: str | None = Field(description="null when the key was revoked or deleted")
    tenant: str


class Projection(BaseModel):
    month: str = Field(description="YYYY-MM (UTC)")
    month_to_date_usd: float
    days_elapsed: float
    days_in_month: int
    projected_month_end_usd: float = Field(description="month to date / days elapsed * days")


class BudgetOutlook(BaseModel):
    key_id: str
    name: str
    tenant: str
    budget_usd: float
    budget_period: Literal["total", "daily", "monthly"]
    spent_usd: float = Field(description="spend in the budget's window so far")
    remaining_usd: float
    projected_usd: float = Field(description="at the end of today (daily) or of this month")
    projected_over: bool


class CostReport(BaseModel):
    object: Literal["cost.report"]
    since: str
    until: str
    generated_at: str
    currency: Literal["USD"]
    total: Spend
    by_model: list[ModelSpend] = Field(description="dearest first")
    by_tenant: list[TenantSpend] = Field(description="dearest first, `top` of them")
    by_day: list[DaySpend] = Field(description="in order")
    top_spenders: list[KeySpend] = Field(description="keys, dearest first, `top` of them")
    projection: Projection
    budgets: list[BudgetOutlook] = Field(
        description="active keys with a budget, most at risk first"
    )


class SessionSpend(Spend):
    day: str
    key_id: str
    tenant: str
    model: str
    session_id: str = Field(description="the caller's session ('' when it named a user only)")
    user_id: str = Field(description="the caller's end user ('' when it named a session only)")


class SessionUsage(BaseModel):
    object: Literal["list"]
    data: list[SessionSpend] = Field(description="by day, key and model; 10,000 rows at most")
    total: Spend


router = APIRouter(prefix="/admin", dependencies=[Depends(require_master_key)])


@router.get("/cost", response_model=CostReport, summary="Spend, top spenders and projections")
async def cost_report(
    request: Request,
    since: date | None = None,
    until: date | None = None,
    top: int = Query(10, ge=1, le=1000),
) -> Response:
    """Spend from `since` to `until` (inclusive UTC days; default: this month so far) by model,
    tenant, key and day; the month-end projection and each budgeted key's outlook."""
    if since is not None and until is not None and since > until:
        raise InvalidRequest("since is after until.", param="since")
    store = request.app.state.gateway.keys
    if store is None:
        raise NotFoundError("API keys are not enabled on this gateway, so there is no usage.")
    usage = request.app.state.gateway.usage
    if usage is not None:
        await usage.flush()  # include this replica's most recent requests
    report = await build_cost_report(store, since, until, top, datetime.now(UTC))
    return json_response(report)


def _tag(value: str | None, param: str) -> str | None:
    if value is not None and (len(value) > 128 or not value.isprintable()):
        raise InvalidRequest(f"`{param}` must be printable text of 128 characters at most.",
                             param=param)  # fmt: skip
    return value


@router.get("/usage/sessions", response_model=SessionUsage, summary="Usage per caller session")
async def session_usage(
    request: Request,
    session_id: str | None = None,
    user_id: str | None = None,
    tenant: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    """Usage of the requests whose caller named a session or an end user (`*-Session-Id` /
    `*-User-Id` headers, `metadata.session_id` / `metadata.user`, OpenAI `user`)."""
    store = request.app.state.gateway.keys
    if store is None:
        raise NotFoundError("API keys are not enabled on this gateway, so there is no usage.")
    usage = request.app.state.gateway.usage
    if usage is not None:
        await usage.flush()
    rows = await store.session_usage(
        _tag(session_id, "session_id"), _tag(user_id, "user_id"), _tag(tenant, "tenant"),
        since, until,
    )  # fmt: skip
    data = [
        {"day": r.day.isoformat(), "key_id": r.key_id, "tenant": r.tenant, "model": r.model,
         "session_id": r.session_id, "user_id": r.user_id, **totals([r])}
        for r in rows
    ]  # fmt: skip
    return json_response({"object": "list", "data": data, "total": totals(rows)})
