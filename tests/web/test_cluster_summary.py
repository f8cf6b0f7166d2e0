"""The dashboard's live stats across replicas: two `switchboard serve` processes share the real
Redis, each answers /dashboard/api/summary with both replicas' seconds merged; without Redis a
gateway reports its own traffic, as before."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from switchboard.testing.processes import (
    ServiceProcess,
    gateway_process,
    mock_provider_process,
    wait_healthy,
)
from switchboard.testing.services import accepts_connections, redis_url, require_or_skip

REDIS = redis_url()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    if not accepts_connections(REDIS):
        require_or_skip(f"needs Redis at {REDIS}")
    upstream = mock_provider_process(log=tmp_path / "mock.log")
    upstream.start()
    deployment = {"provider": "openai", "name": "mock-dep", "model": "m",
                  "api_base": f"{upstream.base_url}/v1", "api_key": "sk-upstream"}  # fmt: skip
    config = tmp_path / "catalogue.yaml"
    config.write_text(yaml.safe_dump({"models": [{"name": "mock", "deployments": [deployment]}]}))
    env = {"SWITCHBOARD_REDIS_URL": REDIS,
           "SWITCHBOARD_REDIS_PREFIX": f"sblive:{uuid.uuid4().hex}:"}  # fmt: skip
    gateways = [gateway_process(config, env, log=tmp_path / f"gw{i}.log") for i in range(2)]
    try:
        for gw in gateways:
            gw.start()
            wait_healthy(gw.base_url)
        yield gateways
    finally:
        for gw in gateways:
            gw.stop()
        upstream.stop()


def chat(base: str, n: int) -> None:
    body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(n):
        assert httpx.post(f"{base}/v1/chat/completions", json=body, timeout=10).status_code == 200


def summary(base: str, **query: Any) -> dict[str, Any]:
    reply = httpx.get(f"{base}/dashboard/api/summary", params=query, timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def requests_in(body: dict[str, Any]) -> int:
    """Requests in the series' seconds (window 1: rps is that second's count)."""
    return round(sum(p["rps"] for p in body["series"]))


def test_each_replica_reports_both_replicas_traffic(replicas: list[ServiceProcess]) -> None:
    a, b = (gw.base_url for gw in replicas)
    chat(a, 7)
    chat(b, 5)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        views = [summary(base, window=1, history=120) for base in (a, b)]
        if all(requests_in(v) == 12 for v in views):
            break
        time.sleep(0.5)
    for view in views:
        assert view["scope"] == "cluster" and view["replicas"] == 2
        assert requests_in(view) == 12, view["series"]
        assert view["requests_total"] == 12
    assert views[0]["replica"] != views[1]["replica"]  # two answers, one cluster
    assert views[0]["series"][-1]["t"] <= views[0]["now"] - 2  # complete seconds only
    wide = summary(a, window=60, history=1)["current"]  # every request in one window
    assert wide["rps"] == pytest.approx(12 / 60, abs=1e-3)
    assert wide["latency_ms"]["p50"] is not None and wide["error_rate"] == 0
    later = summary(a, window=1, since=views[0]["series"][-1]["t"])
    assert all(p["t"] > views[0]["series"][-1]["t"] for p in later["series"])
