"""LiveStats, the dashboard's last minutes: rates over sliding windows, percentiles within 1% of
exact, bounded memory (old seconds are overwritten, spend is kept per catalogue model)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from switchboard.observability.events import RequestFinished
from switchboard.observability.live import LiveStats, bucket_of, bucket_value, quantiles


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def event(status: int = 200, latency_s: float = 0.1, **kw: Any) -> RequestFinished:
    fields: dict[str, Any] = {
        "request_id": "r",
        "endpoint": "chat.completions",
        "model": "mock",
        "deployment": "mock-a",
        "status": status,
        "outcome": "ok",
        "stream": False,
        "usage": None,
        "usage_estimated": False,
        "cost_usd": 0.0,
        "latency_s": latency_s,
        "ttft_s": None,
        "overhead_s": 0.0,
        "attempts": 1,
    }
    return RequestFinished(**{**fields, **kw})


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(q * len(ordered) + 0.999999) - 1)]


def test_bucket_middle_is_within_one_percent_of_every_value_in_it() -> None:
    for ms in (0.05, 0.9, 1.0, 7.3, 250.0, 12_345.6, 600_000.0):
        assert abs(bucket_value(bucket_of(ms)) - ms) <= 0.01 * ms


def test_percentiles_within_one_percent_of_exact() -> None:
    rng = random.Random(12)
    values = [rng.lognormvariate(4.0, 1.2) for _ in range(100_000)]  # ms, a long tail
    histogram: dict[int, int] = {}
    for v in values:
        histogram[bucket_of(v)] = histogram.get(bucket_of(v), 0) + 1
    found = quantiles(histogram)
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        truth = exact(values, q)
        assert found[name] == pytest.approx(truth, rel=0.01), name


def test_window_rates_and_percentiles() -> None:
    clock = Clock()
    live = LiveStats(horizon_s=60, clock=clock)
    for second in range(10):
        clock.now = 1_000_000 + second + 0.5
        for i in range(10):  # 10 requests a second: latency 10..100 ms
            live.request_finished(event(latency_s=(i + 1) / 100, ttft_s=0.005))
        live.request_finished(event(status=502))
        live.request_finished(event(status=429))
    clock.now = 1_000_010.2
    point = live.summary(1_000_009, 10)
    assert point["rps"] == pytest.approx(12.0)
    assert point["error_rate"] == pytest.approx(1 / 12, abs=1e-5)
    assert point["refused_rate"] == pytest.approx(1 / 12, abs=1e-5)
    assert point["cache_hit_rate"] is None  # no cache outcome reported
    assert point["latency_ms"]["p50"] == pytest.approx(50, rel=0.01)
    assert point["latency_ms"]["p99"] == pytest.approx(100, rel=0.01)
    assert point["ttft_ms"]["p95"] == pytest.approx(5, rel=0.01)
    half = live.summary(1_000_004, 5)  # seconds 0..4 alone
    assert half["rps"] == pytest.approx(12.0)
    assert live.requests_total == 120


def test_series_returns_only_new_seconds() -> None:
    clock = Clock(2_000_000.5)
    live = LiveStats(horizon_s=120, clock=clock)
    live.request_finished(event())
    clock.now += 3
    points = live.series(None, 10, 300)
    assert len(points) == 120 - 10 and points[-1]["t"] == 2_000_002
    assert [p["t"] for p in live.series(2_000_000, 10, 300)] == [2_000_001, 2_000_002]
    assert live.series(2_000_002, 10, 300) == []
    assert [p["rps"] for p in live.series(1_999_999, 1, 5)] == [1.0, 0.0, 0.0]


def test_old_seconds_are_overwritten_not_counted() -> None:
    clock = Clock(3_000_000.1)
    live = LiveStats(horizon_s=30, clock=clock)
    live.request_finished(event(status=500))
    clock.now += 30  # the same slot of the ring, a new second
    live.request_finished(event())
    point = live.summary(int(clock.now), 30)
    assert point["rps"] == pytest.approx(1 / 30, abs=1e-4) and point["error_rate"] == 0.0


def test_spend_by_model_and_cache_outcomes() -> None:
    clock = Clock(4_000_000.5)
    live = LiveStats(clock=clock)
    live.request_finished(event(cost_usd=0.25, cache="miss"))
    live.request_finished(event(cost_usd=0.5, model="other", cache="hit-exact"))
    live.request_finished(event(cost_usd=0.25, cache="hit-semantic"))
    live.request_finished(event(cache="bypass"))  # not looked up: not in the rate
    live.request_finished(event())  # no cache policy
    assert live.cost_by_model == {"mock": 0.5, "other": 0.5}
    point = live.summary(4_000_000, 10)
    assert point["cache_hit_rate"] == pytest.approx(2 / 3, abs=1e-5)
    assert point["cost_usd"] == pytest.approx(1.0)
