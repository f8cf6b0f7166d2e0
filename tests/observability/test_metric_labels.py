"""Metric labels: deployment and provider, the refused request's model, limit rejections by
kind, retries and failovers, breaker changes; no key ids or client text as labels."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

Sample = tuple[str, frozenset[tuple[str, str]]]
Samples = Callable[[GatewayServer], dict[Sample, float]]
MASTER = "mk-observability-master-0123456789"
CHAT = {"model": "mock", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}


def sample(name: str, **labels: str) -> Sample:
    return name, frozenset(labels.items())


def grown(
    before: dict[Sample, float], after: dict[Sample, float], name: str, **labels: str
) -> float:
    s = sample(name, **labels)
    return after.get(s, 0.0) - before.get(s, 0.0)


def test_requests_latency_and_tokens_by_deployment_and_provider(
    gateway: GatewayServer, metrics: Samples
) -> None:
    before = metrics(gateway)
    assert httpx.post(gateway.url + "/chat/completions", json=CHAT).status_code == 200
    after = metrics(gateway)
    where = {"model": "mock", "deployment": "mock-a", "provider": "openai"}
    ep = {"endpoint": "chat.completions", **where}
    assert grown(before, after, "switchboard_deployment_requests_total", **ep, status="200") == 1
    assert grown(before, after, "switchboard_deployment_request_duration_seconds_count", **ep) == 1
    assert (
        grown(before, after, "switchboard_deployment_tokens_total", **where, direction="output")
        == 8
    )
    # the families that were there before keep their names and labels
    old = {"endpoint": "chat.completions", "model": "mock", "status": "200"}
    assert grown(before, after, "switchboard_requests_total", **old) == 1


def test_requests_refused_before_the_pipeline_are_counted(
    gateway: GatewayServer, metrics: Samples
) -> None:
    before = metrics(gateway)
    assert httpx.post(gateway.url + "/chat/completions", content=b"{bad").status_code == 400
    assert httpx.get(gateway.base + "/v1/no-such-thing-here").status_code == 404
    after = metrics(gateway)
    route = {"endpoint": "other", "model": "unknown", "status": "400"}
    assert grown(before, after, "switchboard_requests_total", **route) == 1
    unmatched = {"endpoint": "other", "model": "unknown", "status": "404"}
    assert grown(before, after, "switchboard_requests_total", **unmatched) == 1
    assert "no-such-thing" not in httpx.get(gateway.base + "/metrics").text


@pytest.fixture(scope="module")
def secured(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    db: Path = tmp_path_factory.mktemp("obs-keys") / "keys.db"
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    models = [
        {"name": "mock", "deployments": [{**dep, "name": "obs-mock", "price": {"output": 100}}]},
        {"name": "other", "deployments": [{**dep, "name": "obs-other"}]},
    ]
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": models}),
        master_key=MASTER,
        database_url=f"sqlite:///{db}",
    )
    with run_gateway(background, settings) as server:
        yield server


def new_key(gw: GatewayServer, **spec: Any) -> tuple[str, str]:
    body = {"name": "obs", "tenant": "acme", **spec}
    resp = httpx.post(
        gw.base + "/admin/keys", json=body, headers={"authorization": f"Bearer {MASTER}"}
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["key"], resp.json()["api_key"]["id"]


def chat(gw: GatewayServer, key: str, **kw: Any) -> httpx.Response:
    body = {**CHAT, **kw}
    return httpx.post(
        gw.url + "/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
    )


def test_refusals_keep_the_catalogue_model_and_count_the_limit(
    secured: GatewayServer, metrics: Samples, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    only_mock, _ = new_key(secured, allowed_models=["mock"])
    limited, key_id = new_key(secured, rpm=1)
    before = metrics(secured)
    assert chat(secured, only_mock, model="other").status_code == 403
    assert chat(secured, only_mock, model="not-in-the-catalogue").status_code in (403, 404)
    assert chat(secured, limited).status_code == 200
    assert chat(secured, limited).status_code == 429
    after = metrics(secured)
    refused = {"endpoint": "chat.completions", "model": "other", "status": "403"}
    assert grown(before, after, "switchboard_requests_total", **refused) == 1
    limited_labels = {"endpoint": "chat.completions", "model": "mock", "status": "429"}
    assert grown(before, after, "switchboard_requests_total", **limited_labels) == 1
    assert grown(before, after, "switchboard_limit_rejections_total", kind="rpm") == 1
    text = httpx.get(secured.base + "/metrics").text
    assert "not-in-the-catalogue" not in text and key_id not in text and limited not in text
    # the log line names the key by its id, never the key
    lines = [getattr(r, "fields", {}) for r in caplog.records if r.name == "switchboard.request"]
    assert any(f.get("key_id") == key_id and f.get("limit") == "rpm" for f in lines)
    assert limited not in caplog.text and only_mock not in caplog.text


def test_concurrency_and_budget_rejections_have_their_kind(
    secured: GatewayServer, metrics: Samples
) -> None:
    broke, _ = new_key(secured, budget_usd=0)
    before = metrics(secured)
    assert chat(secured, broke).status_code == 402
    after = metrics(secured)
    assert grown(before, after, "switchboard_limit_rejections_total", kind="budget") == 1


@pytest.fixture(scope="module")
def flaky(background: BackgroundLoop, mock_upstream: MockUpstream) -> Iterator[GatewayServer]:
    base = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    broken = {"x-mock-error-status": "500"}
    models = [
        {
            "name": "flaky",
            "strategy": "priority",
            "deployments": [
                {**base, "name": "obs-broken", "priority": 0, "headers": broken},
                {**base, "name": "obs-good", "priority": 1},
            ],
        },
        {"name": "broken", "deployments": [{**base, "name": "obs-only-broken", "headers": broken}]},
        {"name": "breaking", "deployments": [{**base, "name": "obs-breaking", "headers": broken}]},
    ]
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": models}),
        retry_rounds=1,
        retry_backoff_s=0.0,
        breaker_min_calls=2,
        breaker_min_span_s=0.0,
        breaker_cooldown_s=60,
    )
    with run_gateway(background, settings) as server:
        yield server


def test_failovers_and_retries_are_counted_and_logged(
    flaky: GatewayServer, metrics: Samples, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = metrics(flaky)
    resp = httpx.post(flaky.url + "/chat/completions", json={**CHAT, "model": "flaky"})
    assert resp.status_code == 200 and resp.headers["x-switchboard-deployment"] == "obs-good"
    resp = httpx.post(flaky.url + "/chat/completions", json={**CHAT, "model": "broken"})
    assert resp.status_code == 502
    after = metrics(flaky)
    assert (
        grown(before, after, "switchboard_upstream_retries_total", model="flaky", kind="failover")
        == 1
    )
    assert (
        grown(before, after, "switchboard_upstream_retries_total", model="broken", kind="retry")
        == 1
    )
    records = [r for r in caplog.records if r.name == "switchboard.upstream"]
    failover = [r.fields for r in records if r.getMessage() == "upstream failover"]  # type: ignore[attr-defined]
    assert failover[0]["from_deployment"] == "obs-broken"
    assert failover[0]["deployment"] == "obs-good"
    assert "upstream_error" in str(failover[0]["reason"])
    assert any(r.getMessage() == "upstream retry" for r in records)


def test_breaker_changes_are_logged_and_counted(
    flaky: GatewayServer, metrics: Samples, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(3):
        httpx.post(flaky.url + "/chat/completions", json={**CHAT, "model": "breaking"})
    after = metrics(flaky)
    assert after[sample("switchboard_circuit_state", deployment="obs-breaking")] == 2.0
    opened = sample(
        "switchboard_circuit_transitions_total", deployment="obs-breaking", state="open"
    )
    assert after[opened] >= 1
    changes = [
        r.fields  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "switchboard.breaker" and r.fields["deployment"] == "obs-breaking"  # type: ignore[attr-defined]
    ]
    assert changes and changes[0]["state"] == "open" and changes[0]["from_state"] == "closed"
