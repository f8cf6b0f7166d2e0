"""Cost reports from the daily usage table: spend per model, key, tenant and day, the top
spenders, and month-end projections against each key's budget.

Projections are linear: the spend of the month so far (or of the day, for daily budgets)
divided by the time elapsed, times the whole period. Sums are exact (nano-dollars).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from switchboard.keys.models import ApiKey, UsageRow
from switchboard.keys.tables import to_nanos, to_usd
from switchboard.keys.usage_report import totals

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore

CostGroup = Literal["model", "key", "tenant", "day"]
COST_GROUPS: tuple[CostGroup, ...] = ("model", "key", "tenant", "day")


@dataclass(frozen=True, slots=True)
class Period:
    """The report's days (inclusive) and the moment it is made (for projections)."""

    since: date
    until: date
    now: datetime

    @classmethod
    def month_to_date(cls, now: datetime) -> Period:
        return cls(now.date().replace(day=1), now.date(), now)


def month_elapsed(now: datetime) -> tuple[float, int]:
    """Days of this UTC month elapsed (fractional, at least one hour) and days in it."""
    start = datetime.combine(now.date().replace(day=1), time(), UTC)
    elapsed = max((now - start).total_seconds(), 3600.0) / 86400.0
    return elapsed, calendar.monthrange(now.year, now.month)[1]


def _group_key(row: UsageRow, by: CostGroup) -> str:
    if by == "model":
        return row.model
    if by == "key":
        return row.key_id
    if by == "tenant":
        return row.tenant
    return row.day.isoformat()


def grouped(
    rows: Sequence[UsageRow], by: CostGroup, keys: dict[str, ApiKey], limit: int | None = None
) -> list[dict[str, Any]]:
    """Spend per group, dearest first (days in order); `limit` keeps the first ones."""
    groups: dict[str, list[UsageRow]] = {}
    for row in rows:
        groups.setdefault(_group_key(row, by), []).append(row)
    out = []
    for name, members in groups.items():
        entry: dict[str, Any] = {by if by != "key" else "key_id": name, **totals(members)}
        if by == "key":
            key = keys.get(name)
            entry["name"] = key.name if key is not None else None
            entry["tenant"] = members[0].tenant
        out.append(entry)
    if by == "day":
        out.sort(key=lambda e: e["day"])
    else:
        out.sort(key=lambda e: (-e["cost_usd"], str(next(iter(e.values())))))
    return out[:limit] if limit is not None else out


def projection(month_rows: Sequence[UsageRow], now: datetime) -> dict[str, Any]:
    spent = to_usd(sum(to_nanos(r.cost_usd) for r in month_rows))
    elapsed, days = month_elapsed(now)
    return {
        "month": now.strftime("%Y-%m"),
        "month_to_date_usd": spent,
        "days_elapsed": round(elapsed, 3),
        "days_in_month": days,
        "projected_month_end_usd": round(spent * days / elapsed, 6),
    }


def budget_outlook(
    key: ApiKey, spent: float, month_spent: float, now: datetime
) -> dict[str, Any] | None:
    """A budgeted key's spend in its window and where it is heading by the window's end
    (daily: the end of today; monthly and total: the end of this month)."""
    budget = key.budget_usd
    if budget is None:
        return None
    if key.budget_period == "daily":
        since_midnight = now - datetime.combine(now.date(), time(), UTC)
        fraction = max(since_midnight / timedelta(days=1), 1 / 24)
        projected = spent / fraction
    else:
        elapsed, days = month_elapsed(now)
        projected = spent + month_spent / elapsed * (days - elapsed)
    return {
        "key_id": key.id,
        "name": key.name,
        "tenant": key.tenant,
        "budget_usd": budget,
        "budget_period": key.budget_period,
        "spent_usd": round(spent, 9),
        "remaining_usd": round(budget - spent, 9),
        "projected_usd": round(projected, 6),
        "projected_over": projected > budget,
    }


def cost_report(
    rows: Sequence[UsageRow],
    month_rows: Sequence[UsageRow],
    keys: Sequence[ApiKey],
    budgets: Sequence[dict[str, Any]],
    period: Period,
    top: int = 10,
) -> dict[str, Any]:
    """The `/admin/cost` body: totals and spend by model, tenant, key (top `top`) and day."""
    by_id = {k.id: k for k in keys}
    return {
        "object": "cost.report",
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "generated_at": period.now.isoformat(timespec="seconds"),
        "currency": "USD",
        "total": totals(rows),
        "by_model": grouped(rows, "model", by_id),
        "by_tenant": grouped(rows, "tenant", by_id, limit=top),
        "by_day": grouped(rows, "day", by_id),
        "top_spenders": grouped(rows, "key", by_id, limit=top),
        "projection": projection(month_rows, period.now),
        "budgets": sorted(budgets, key=lambda b: -b["projected_usd"] / max(b["budget_usd"], 1e-9)),
    }


async def build_cost_report(
    store: KeyStore, since: date | None, until: date | None, top: int, now: datetime
) -> dict[str, Any]:
    """Read the usage table and the keys once, and make the report (API and CLI alike)."""
    month = Period.month_to_date(now)
    period = Period(since or month.since, until or month.until, now)
    month_rows = await store.usage(since=month.since, until=month.until)
    same = (period.since, period.until) == (month.since, month.until)
    rows = month_rows if same else await store.usage(since=period.since, until=period.until)
    keys = await store.list(include_revoked=False)
    month_by_key: dict[str, int] = {}
    today_by_key: dict[str, int] = {}
    for row in month_rows:
        month_by_key[row.key_id] = month_by_key.get(row.key_id, 0) + to_nanos(row.cost_usd)
        if row.day == now.date():
            today_by_key[row.key_id] = today_by_key.get(row.key_id, 0) + to_nanos(row.cost_usd)
    budgets = []
    for key in keys:
        if key.budget_usd is None or key.status(now) != "active":
            continue
        month_spent = to_usd(month_by_key.get(key.id, 0))
        if key.budget_period == "daily":
            spent = to_usd(today_by_key.get(key.id, 0))
        elif key.budget_period == "monthly":
            spent = month_spent
        else:
            spent = await store.spend(key.id, since=None)
        outlook = budget_outlook(key, spent, month_spent, now)
        if outlook is not None:
            budgets.append(outlook)
    return cost_report(rows, month_rows, keys, budgets, period, top)
