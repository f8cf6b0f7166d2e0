"""The evaluation report: per-item results and their means, as JSON and as a readable summary."""

from __future__ import annotations

import statistics
from typing import Any

from switchboard.evaluation.runner import ItemResult

METRICS = ("exact_match", "f1", "contains", "similarity", "judge", "retrieval_hit")


def mean_of(results: list[ItemResult], metric: str) -> float | None:
    values = [v for r in results if (v := r.scores.get(metric)) is not None]
    return round(statistics.fmean(values), 4) if values else None


def build_report(results: list[ItemResult], target: dict[str, Any]) -> dict[str, Any]:
    answered = [r for r in results if r.answer is not None]
    latencies = sorted(r.latency_s for r in answered)
    return {
        "object": "evaluation.report",
        "target": target,
        "items": len(results),
        "answered": len(answered),
        "errors": len(results) - len(answered),
        "scores": {m: mean_of(answered, m) for m in METRICS},
        "usage": {
            "prompt_tokens": sum(r.answer.prompt_tokens for r in answered if r.answer),
            "completion_tokens": sum(r.answer.completion_tokens for r in answered if r.answer),
        },
        "cost_usd": round(sum(r.answer.cost_usd for r in answered if r.answer), 8),
        "latency_s": {
            "mean": round(statistics.fmean(latencies), 4) if latencies else None,
            "p50": round(latencies[len(latencies) // 2], 4) if latencies else None,
            "max": round(latencies[-1], 4) if latencies else None,
        },
        "results": [r.as_json() for r in results],
    }


def summary(report: dict[str, Any], worst: int = 5) -> str:
    """A few lines for a terminal: the target, the mean scores, cost, and the worst items."""
    target = report["target"]
    lines = [
        f"evaluation of {target.get('kind')} {target.get('model')}: {report['answered']} of "
        f"{report['items']} answered, {report['errors']} errors",
    ]
    for metric, value in report["scores"].items():
        if value is not None:
            lines.append(f"  {metric:<14} {value:.3f}")
    usage = report["usage"]
    latency = report["latency_s"]
    lines.append(
        f"  tokens {usage['prompt_tokens']} in / {usage['completion_tokens']} out, "
        f"cost ${report['cost_usd']:.6f}, latency p50 {latency['p50']} s"
    )
    misses = [r for r in report["results"] if (r["scores"].get("f1") or 0.0) < 0.5]
    if misses:
        lines.append(f"lowest F1 ({min(worst, len(misses))} of {len(misses)} below 0.5):")
        for r in sorted(misses, key=lambda r: r["scores"].get("f1") or 0.0)[:worst]:
            shown = (r["prediction"] or r["error"] or "")[:80].replace("\n", " ")
            lines.append(
                f"  [{r['id']}] {r['question'][:60]} -> {shown!r} (want {r['answers'][0]!r})"
            )
    return "\n".join(lines)
