"""Usage reports: daily rows rolled up by key, model or day, with exact cost totals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from switchboard.keys.models import UsageRow
from switchboard.keys.tables import to_nanos, to_usd

GroupBy = Literal["key", "model", "day"]
USAGE_FIELDS = ("requests", "prompt_tokens", "completion_tokens", "cached_tokens")


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


def totals(rows: Sequence[UsageRow]) -> dict[str, Any]:
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
    return [{**labels, **totals(members)} for labels, members in groups.values()]
