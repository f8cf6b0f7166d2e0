"""LiveStats: the last few minutes of traffic in one-second buckets, for the web dashboard.

A subscriber to RequestFinished. Each second keeps counts (requests, 5xx, 4xx, cache lookups
and hits, cost) and two log-bucketed latency histograms (whole request and time to first
token) whose buckets are 2% wide, so a percentile read from them is within 1% of exact. A
sliding window of seconds is merged on read; recording costs a few dictionary increments.
Memory is bounded by the horizon (one slot a second), never by keys or models.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from switchboard.observability.events import RequestFinished

_GROWTH = 1.02  # bucket i holds values in (GROWTH**(i-1), GROWTH**i] milliseconds
_LOG_GROWTH = math.log(_GROWTH)
_QUANTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))


def bucket_of(ms: float) -> int:
    return math.ceil(math.log(ms) / _LOG_GROWTH) if ms > 0.01 else -233


def bucket_value(index: int) -> float:
    """The middle of a bucket (in ms): at most 1% from any value that fell in it."""
    return float(_GROWTH**index * (1 + 1 / _GROWTH) / 2)


def quantiles(histogram: dict[int, int]) -> dict[str, float | None]:
    """p50/p95/p99 (ms) of a merged histogram; None where nothing was recorded."""
    total = sum(histogram.values())
    if not total:
        return {name: None for name, _ in _QUANTILES}
    out: dict[str, float | None] = {}
    ordered = sorted(histogram.items())
    for name, q in _QUANTILES:
        rank, seen = q * total, 0
        for index, count in ordered:
            seen += count
            if seen >= rank:
                out[name] = round(bucket_value(index), 3)
                break
    return out


def merge(histograms: Iterable[dict[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for index, count in histogram.items():
            merged[index] = merged.get(index, 0) + count
    return merged


@dataclass(slots=True)
class Second:
    """What happened in one wall-clock second."""

    at: int
    requests: int = 0
    errors: int = 0  # answered 5xx
    refused: int = 0  # answered 4xx
    cache_lookups: int = 0
    cache_hits: int = 0
    cost_usd: float = 0.0
    latency: dict[int, int] = field(default_factory=dict)  # successful requests
    ttft: dict[int, int] = field(default_factory=dict)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def summarize(secs: list[Second], end: int, window_s: int) -> dict[str, Any]:
    """Rates and percentiles over the window ending at second `end`, from its seconds."""
    requests = sum(s.requests for s in secs)
    lookups = sum(s.cache_lookups for s in secs)
    return {
        "t": end,
        "rps": round(requests / window_s, 4),
        "error_rate": _rate(sum(s.errors for s in secs), requests),
        "refused_rate": _rate(sum(s.refused for s in secs), requests),
        "cache_hit_rate": _rate(sum(s.cache_hits for s in secs), lookups),
        "cost_usd": round(sum(s.cost_usd for s in secs), 9),
        "latency_ms": quantiles(merge(s.latency for s in secs)),
        "ttft_ms": quantiles(merge(s.ttft for s in secs)),
    }


def first_point(last: int, since: int | None, window_s: int, history_s: int, horizon_s: int) -> int:
    """The first second a series ending at `last` reports (its windows stay in the horizon)."""
    first = last - min(history_s, horizon_s - window_s) + 1
    return first if since is None else max(first, since + 1)


class LiveStats:
    """A ring of `horizon_s` one-second slots, read as sliding windows by the dashboard."""

    def __init__(self, horizon_s: int = 600, clock: Callable[[], float] = time.time) -> None:
        self.horizon_s = horizon_s
        self._clock = clock
        self._slots: list[Second | None] = [None] * horizon_s
        self._current = Second(-1)  # the slot being filled: most requests skip the ring look-up
        self.requests_total = 0
        self.cost_by_model: dict[str, float] = {}  # catalogue names (and "unknown"): bounded
        self.started_at = clock()

    def request_started(self, endpoint: str) -> None:
        pass

    def request_finished(self, event: RequestFinished) -> None:
        sec = self._current
        now = int(self._clock())
        if sec.at != now:
            sec = self._current = self._second(now)
        sec.requests += 1
        self.requests_total += 1
        status = event.status
        if status >= 500:
            sec.errors += 1
        elif status >= 400:
            sec.refused += 1
        elif event.in_pipeline:
            index = bucket_of(event.latency_s * 1000.0)
            sec.latency[index] = sec.latency.get(index, 0) + 1
            if event.ttft_s is not None:
                index = bucket_of(event.ttft_s * 1000.0)
                sec.ttft[index] = sec.ttft.get(index, 0) + 1
        cache = event.cache  # hit-exact, hit-semantic, miss, bypass (not looked up) or None
        if cache is not None and cache != "bypass":
            sec.cache_lookups += 1
            if cache != "miss":
                sec.cache_hits += 1
        if event.cost_usd:
            sec.cost_usd += event.cost_usd
            spent = self.cost_by_model
            spent[event.model] = spent.get(event.model, 0.0) + event.cost_usd

    def _second(self, now: int) -> Second:
        slot = now % self.horizon_s
        sec = self._slots[slot]
        if sec is None or sec.at != now:
            sec = self._slots[slot] = Second(now)
        return sec

    def window(self, end: int, window_s: int) -> list[Second]:
        """The recorded seconds in (end - window_s, end]."""
        found = []
        for at in range(end - window_s + 1, end + 1):
            sec = self._slots[at % self.horizon_s]
            if sec is not None and sec.at == at:
                found.append(sec)
        return found

    def summary(self, end: int, window_s: int) -> dict[str, Any]:
        """Rates and percentiles over the window ending at second `end`."""
        return summarize(self.window(end, window_s), end, window_s)

    def series(self, since: int | None, window_s: int, history_s: int) -> list[dict[str, Any]]:
        """One summary per completed second after `since`, at most `history_s` of them."""
        last = int(self._clock()) - 1  # the current second is still filling
        first = first_point(last, since, window_s, history_s, self.horizon_s)
        return [self.summary(t, window_s) for t in range(first, last + 1)]
