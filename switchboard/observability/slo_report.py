"""The SLO report behind `GET /admin/slo`: targets, actuals, violations and burn rates.

Burn rate (Google SRE workbook): the rate at which the error budget is spent, 1.0 meaning
exactly the budget over the SLO period. For the error rate, the budget is the target fraction
of 5xx; for a latency quantile pX with target T, the budget is the (1 - X) share of requests
allowed to be slower than T. Windows end at the current (partial) minute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.catalogue import SloConfig
from switchboard.observability.sketch import BUCKET_S, QUANTILES, Minute, merged, quantile

BURN_WINDOWS_S = {"5m": 300, "1h": 3600, "6h": 6 * 3600}
# multi-window alerts over the windows above: (severity, long, short, burn rate threshold)
ALERTS = (
    ("page", "1h", "5m", 14.4),  # 2% of a 30-day budget in one hour
    ("page", "6h", "1h", 6.0),  # 5% of a 30-day budget in six hours
    ("ticket", "6h", "1h", 1.0),  # spending faster than the budget allows
)


def _window(minutes: Mapping[int, Minute], now: int, span_s: int) -> list[Minute]:
    first = now - span_s // BUCKET_S + 1
    return [m for minute, m in minutes.items() if first <= minute <= now]


def _sum(buckets: list[Minute]) -> Minute:
    out = Minute(latency=None, ttft=None)
    for bucket in buckets:
        out.add_counts(bucket)
    return out


def _burn(counts: Minute, budget_name: str, budget: float) -> float | None:
    """Observed bad fraction over the allowed fraction; None when nothing was counted."""
    if budget_name == "error_rate":
        bad, total = counts.errors, counts.total
    else:
        kind = budget_name.split(".", 1)[0]
        total = counts.good_latency if kind == "latency_s" else counts.good_ttft
        bad = counts.slow.get(budget_name.replace("_s.", ":"), 0)
    if total == 0:
        return None
    return round((bad / total) / budget, 6)


def budgets(objective: SloConfig) -> dict[str, float]:
    """Every objective's error budget, named as in the report (`latency_s.p95`, ...)."""
    out: dict[str, float] = {}
    if objective.error_rate is not None:
        out["error_rate"] = objective.error_rate
    for q in objective.latency_s:
        out[f"latency_s.{q}"] = 1.0 - QUANTILES[q]
    for q in objective.ttft_s:
        out[f"ttft_s.{q}"] = 1.0 - QUANTILES[q]
    return out


def burn_rates(objective: SloConfig, minutes: Mapping[int, Minute], now: int) -> dict[str, Any]:
    windows = {name: _sum(_window(minutes, now, s)) for name, s in BURN_WINDOWS_S.items()}
    return {
        name: {w: _burn(counts, name, budget) for w, counts in windows.items()}
        for name, budget in budgets(objective).items()
    }


def alerts(burn: Mapping[str, Mapping[str, float | None]]) -> list[dict[str, Any]]:
    out = []
    for name, rates in burn.items():
        for severity, long, short, threshold in ALERTS:
            long_rate, short_rate = rates.get(long), rates.get(short)
            if long_rate is None or short_rate is None:
                continue
            if long_rate > threshold and short_rate > threshold:
                out.append(
                    {
                        "objective": name,
                        "severity": severity,
                        "windows": [long, short],
                        "threshold": threshold,
                    }
                )
                break  # the most severe alert of this budget only
    return out


def evaluate(objective: SloConfig, minutes: Mapping[int, Minute], now: int) -> dict[str, Any]:
    """One objective's entry in the report."""
    recent = _window(minutes, now, objective.window_s)
    counts = _sum(recent)
    latency = merged([m.latency for m in recent])
    ttft = merged([m.ttft for m in recent])
    observed: dict[str, dict[str, float | None]] = {
        "latency_s": {q: quantile(latency, q) for q in QUANTILES},
        "ttft_s": {q: quantile(ttft, q) for q in QUANTILES},
    }
    rate = round(counts.errors / counts.total, 6) if counts.total else None
    violations = []
    for kind, values in observed.items():
        for q, target in getattr(objective, kind).items():
            value = values[q]
            if value is not None and value > target:
                violations.append({"objective": f"{kind}.{q}", "target": target, "actual": value})
    if objective.error_rate is not None and rate is not None and rate > objective.error_rate:
        target = objective.error_rate
        violations.append({"objective": "error_rate", "target": target, "actual": rate})
    actual = {"requests": counts.total, **observed, "error_rate": rate}
    burn = burn_rates(objective, minutes, now)
    return {
        "name": objective.id,
        "endpoint": objective.endpoint,
        "model": objective.model,
        "window_s": objective.window_s,
        "targets": {
            "latency_s": dict(objective.latency_s),
            "ttft_s": dict(objective.ttft_s),
            "error_rate": objective.error_rate,
        },
        "actual": actual,
        "violations": violations,
        "burn_rate": burn,
        "alerts": alerts(burn),
        "ok": not violations,
    }
