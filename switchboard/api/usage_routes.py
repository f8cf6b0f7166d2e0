"""`GET /v1/usage`: the calling key's own usage and spend."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from switchboard.api.deps import credential_of, gateway_of
from switchboard.api.openai_routes import json_response
from switchboard.errors import InvalidRequest, NotFoundError


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"`{name}` must be a date like 2026-11-27", param=name) from None


router = APIRouter()


@router.get("/v1/usage")
async def own_usage(request: Request) -> Response:
    gateway = gateway_of(request)
    store, recorder, auth = gateway.keys, gateway.usage, gateway.authenticator
    if store is None or recorder is None or auth is None:
        raise NotFoundError("API keys are not enabled on this gateway, so there is no usage.")
    key = await auth.authenticate(credential_of(request))
    now = datetime.now(UTC)
    since = _day(request.query_params.get("since"), "since")
    until = _day(request.query_params.get("until"), "until")
    await recorder.flush()  # include this replica's most recent requests
    rows = await store.usage(key_id=key.id, since=since, until=until)
    spent = await store.spend(key.id, since=key.budget_window_start(now.date()))
    data = [
        {
            "day": r.day.isoformat(),
            "model": r.model,
            "requests": r.requests,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "cached_tokens": r.cached_tokens,
            "cost_usd": round(r.cost_usd, 9),
        }
        for r in rows
    ]
    budget = key.budget_usd
    return json_response(
        {
            "object": "usage",
            "key_id": key.id,
            "tenant": key.tenant,
            "data": data,
            "budget": {
                "budget_usd": budget,
                "period": key.budget_period,
                "spent_usd": round(spent, 9),
                "remaining_usd": round(budget - spent, 9) if budget is not None else None,
            },
        }
    )
