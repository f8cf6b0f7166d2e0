"""SLOs: sketch percentiles against exact ones, burn-rate maths on a synthetic series with known
answers, buckets merged across replicas through a real Redis, and `GET /admin/slo`."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import pytest

from switchboard.catalogue import Catalogue, SloConfig
from switchboard.observability.events import RequestFinished
from switchboard.observability.sketch import (
    merged,
    new_sketch,
    quantile,
    sketch_bytes,
    sketch_from_bytes,
)
from switchboard.observability.slo import SloTracker, objectives_of
from switchboard.observability.slo_share import RedisShare, SloBoard
from switchboard.stores.backbone import RedisOptions, StoreBackbone
from switchboard.testing.services import accepts_connections, redis_url, require_or_skip


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def test_sketch_percentiles_within_one_percent_of_exact_on_100k_samples() -> None:
    rng = random.Random(12)
    values = [rng.lognormvariate(-1.5, 1.2) for _ in range(100_000)]
    whole = new_sketch()
    parts = [new_sketch() for _ in range(4)]  # four replicas' sketches, merged
    for i, v in enumerate(values):
        whole.add(v)
        parts[i % 4].add(v)
    shipped = merged([sketch_from_bytes(sketch_bytes(p)) for p in parts])
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        truth = exact(values, q)
        for sketch in (whole, shipped):
            got = quantile(sketch, name)
            assert got is not None and abs(got - truth) / truth < 0.01, (name, got, truth)
    assert quantile(new_sketch(), "p99") is None


class Clock:
    def __init__(self, start: float = 1_000_000 * 60.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


OBJECTIVE = SloConfig(name="chat", latency_s={"p95": 1.0}, error_rate=0.01, window_s=300)


def feed(tracker: SloTracker, clock: Clock, minutes: int, errors: int, slow: int) -> None:
    """`minutes` minutes of 100 requests each: `errors` 5xx, `slow` over 1 s, the rest 0.1 s."""
    for _ in range(minutes):
        for i in range(100):
            status = 500 if i < errors else 200
            latency = 2.0 if errors <= i < errors + slow else 0.1
            tracker.observe(tracker.objectives, status, latency, None)
        clock.now += 60


def report(tracker: SloTracker) -> dict:
    return asyncio.run(SloBoard(tracker).report())["objectives"][0]


def test_burn_rates_from_a_synthetic_series_with_known_answers() -> None:
    clock = Clock()
    tracker = SloTracker([OBJECTIVE], clock=clock)
    feed(tracker, clock, 300, errors=0, slow=0)  # 5 quiet hours
    feed(tracker, clock, 55, errors=2, slow=5)  # 55 minutes at 2% errors, 5% slow
    feed(tracker, clock, 5, errors=10, slow=20)  # the last 5 minutes: 10% errors, 20% slow
    clock.now -= 60  # "now" is the last fed minute
    entry = report(tracker)
    burn = entry["burn_rate"]
    # error budget 1%: 10% -> 10x; the hour: (55*2 + 5*10) / 6000 -> 2.6667x; 6 h: /36000
    assert burn["error_rate"]["5m"] == pytest.approx(10.0)
    assert burn["error_rate"]["1h"] == pytest.approx(160 / 6000 / 0.01, rel=1e-5)
    assert burn["error_rate"]["6h"] == pytest.approx(160 / 36000 / 0.01, rel=1e-5)
    # p95 <= 1 s allows 5% slow among the successful: 20/90 of them in the last 5 minutes
    assert burn["latency_s.p95"]["5m"] == pytest.approx((20 / 90) / 0.05, rel=1e-5)
    slow_hour, good_hour = 55 * 5 + 5 * 20, 55 * 98 + 5 * 90
    assert burn["latency_s.p95"]["1h"] == pytest.approx(slow_hour / good_hour / 0.05, rel=1e-5)
    assert entry["actual"]["requests"] == 500 and entry["actual"]["error_rate"] == 0.1
    assert {v["objective"] for v in entry["violations"]} == {"latency_s.p95", "error_rate"}
    # 10x over 5 m but 2.7x over 1 h (no page: 14.4) and 0.44x over 6 h (no ticket: 1)
    assert entry["alerts"] == []


def test_a_bad_hour_pages_and_old_minutes_leave_the_windows() -> None:
    clock = Clock()
    tracker = SloTracker([OBJECTIVE], clock=clock)
    feed(tracker, clock, 60, errors=20, slow=0)
    clock.now -= 60
    entry = report(tracker)
    assert entry["burn_rate"]["error_rate"] == {"5m": 20.0, "1h": 20.0, "6h": 20.0}
    assert ("error_rate", "page") in [(a["objective"], a["severity"]) for a in entry["alerts"]]
    clock.now += 7 * 3600  # seven quiet hours later every window is empty again
    entry = report(tracker)
    assert entry["burn_rate"]["error_rate"] == {"5m": None, "1h": None, "6h": None}
    assert entry["actual"]["latency_s"]["p95"] is None and entry["ok"]


def test_percentiles_slide_with_the_window() -> None:
    clock = Clock()
    tracker = SloTracker([OBJECTIVE], clock=clock)
    for _ in range(1000):
        tracker.observe(tracker.objectives, 200, 3.0, None)
    clock.now += 10 * 60  # beyond the 5-minute window
    for _ in range(1000):
        tracker.observe(tracker.objectives, 200, 0.2, None)
    entry = report(tracker)
    assert entry["actual"]["latency_s"]["p99"] == pytest.approx(0.2, rel=0.01)
    assert entry["actual"]["requests"] == 1000 and entry["ok"]


def test_default_objectives_are_one_per_model() -> None:
    catalogue = Catalogue.model_validate(
        {
            "models": [
                {"name": n, "deployments": [{"provider": "local", "model": n, "name": n}]}
                for n in ("a", "b")
            ]
        }
    )
    objectives = objectives_of(catalogue)
    assert [(o.id, o.model) for o in objectives] == [("*:a", "a"), ("*:b", "b")]
    assert all(o.error_rate and o.latency_s["p99"] and o.ttft_s["p95"] for o in objectives)
    with pytest.raises(ValueError, match="unknown models"):
        Catalogue.model_validate({**catalogue.model_dump(), "slos": [{"model": "nope"}]})


@pytest.fixture
def redis_prefix() -> str:
    if not accepts_connections(redis_url()):
        require_or_skip(f"Redis is not reachable at {redis_url()}")
    return f"test-slo-{uuid.uuid4().hex[:8]}:"


def test_replicas_merge_their_buckets_through_redis(redis_prefix: str) -> None:
    clock = Clock()
    rng = random.Random(5)
    values = [rng.uniform(0.05, 3.0) for _ in range(20_000)]

    async def run() -> list[dict]:
        options = RedisOptions(redis_url(), prefix=redis_prefix)
        backbones = [StoreBackbone(options, lambda kind: None) for _ in range(2)]
        boards = [SloBoard(SloTracker([OBJECTIVE], clock=clock), RedisShare(b)) for b in backbones]
        try:
            for i, v in enumerate(values):
                boards[i % 2].tracker.observe([OBJECTIVE], 500 if i % 100 == 0 else 200, v, None)
            await boards[1].share.publish(boards[1].tracker)
            await boards[1].share.publish(
                boards[1].tracker
            )  # a repeated flush counts nothing twice
            return [await boards[0].report(), await boards[1].report()]
        finally:
            client = backbones[0].client
            keys = [k async for k in client.scan_iter(match=redis_prefix + "*")]
            if keys:
                await client.delete(*keys)
            for b in backbones:
                await b.aclose()

    for body in asyncio.run(run()):
        assert body["scope"] == "cluster"
        entry = body["objectives"][0]
        assert entry["actual"]["requests"] == 20_000
        assert entry["actual"]["error_rate"] == 0.01
        ok = [v for i, v in enumerate(values) if i % 100]
        for name, q in (("p50", 0.5), ("p99", 0.99)):
            truth = exact(ok, q)
            assert abs(entry["actual"]["latency_s"][name] - truth) / truth < 0.01


MASTER = "mk-slo-master-0123456789abcdef"


def test_admin_slo_needs_the_master_key_and_reports_traffic(
    background,
    mock_upstream,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from switchboard.config import Settings
    from switchboard.testing.harness import run_gateway
    from tests.conftest import mock_catalogue

    catalogue = mock_catalogue(mock_upstream)
    slos = [{"name": "mock-chat", "endpoint": "chat.completions", "model": "mock",
             "latency_s": {"p50": 5.0, "p99": 0.000001}, "ttft_s": {"p95": 5.0},
             "error_rate": 0.5}]  # fmt: skip
    catalogue = Catalogue.model_validate({**catalogue.model_dump(), "slos": slos})
    settings = Settings(
        catalogue=catalogue, master_key=MASTER, auth_enabled=False,
        database_url=f"sqlite:///{tmp_path / 'keys.db'}",
    )  # fmt: skip
    with run_gateway(background, settings) as gw:
        chat = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
        for stream in (False, True):
            resp = httpx.post(gw.url + "/chat/completions", json={**chat, "stream": stream})
            assert resp.status_code == 200
        assert httpx.get(gw.base + "/admin/slo").status_code == 401
        wrong = {"authorization": "Bearer mk-wrong"}
        assert httpx.get(gw.base + "/admin/slo", headers=wrong).status_code == 401
        resp = httpx.get(gw.base + "/admin/slo", headers={"authorization": f"Bearer {MASTER}"})
        assert resp.status_code == 200
        body = resp.json()
        spec = httpx.get(gw.base + "/openapi.json").json()
    assert body["object"] == "slo.report" and body["scope"] == "replica"
    (entry,) = body["objectives"]
    assert entry["name"] == "mock-chat" and entry["actual"]["requests"] == 2
    assert entry["actual"]["ttft_s"]["p95"] is not None
    assert [v["objective"] for v in entry["violations"]] == ["latency_s.p99"]
    assert entry["burn_rate"]["latency_s.p99"]["5m"] == pytest.approx(100.0)
    schema = spec["paths"]["/admin/slo"]["get"]["responses"]["200"]["content"]
    assert schema["application/json"]["schema"]["$ref"].endswith("/SloReport")


def test_a_report_is_kept_for_a_second() -> None:
    clock, ticks = Clock(), [0.0]
    tracker = SloTracker([OBJECTIVE], clock=clock)
    board = SloBoard(tracker, max_age_s=1.0, clock=lambda: ticks[0])

    def requests() -> int:
        return int(asyncio.run(board.report())["objectives"][0]["actual"]["requests"])

    tracker.observe(tracker.objectives, 200, 0.1, None)
    assert requests() == 1
    tracker.observe(tracker.objectives, 200, 0.1, None)
    ticks[0] = 0.5
    assert requests() == 1  # the same report, half a second later
    ticks[0] = 1.5
    assert requests() == 2


def test_the_gateways_own_calls_count_only_where_named() -> None:
    named = SloConfig(name="classifier", endpoint="internal.classifier", error_rate=0.5)
    tracker = SloTracker([OBJECTIVE, named], ["m"], clock=Clock())
    for endpoint in ("chat.completions", "internal.classifier"):
        event = RequestFinished(
            request_id="r", endpoint=endpoint, model="m", deployment="d", status=200,
            outcome="ok", stream=False, usage=None, usage_estimated=False, cost_usd=0.0,
            latency_s=0.1, ttft_s=None, overhead_s=0.0, attempts=1,
        )  # fmt: skip
        tracker.request_finished(event)
    now = tracker.now_minute()
    assert tracker.minutes("chat")[now].total == 1
    assert tracker.minutes("classifier")[now].total == 1
