"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from switchboard.testing.harness import GatewayServer

CHAT = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}


def test_health_and_ready(gateway: GatewayServer) -> None:
    health = httpx.get(gateway.base + "/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.headers["x-request-id"]
    ready = httpx.get(gateway.base + "/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["deployments"]["mock-a"] is True
    assert body["circuits"]["mock-a"] == "closed"


def test_ready_names_the_deployment_that_is_not_ready(
    gateway: GatewayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway.gateway.providers["mock-a"], "is_ready", lambda: False)
    ready = httpx.get(gateway.base + "/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not_ready"
    assert ready.json()["deployments"]["mock-a"] is False


def samples(gateway: GatewayServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample on /metrics, keyed by (name, labels)."""
    text = httpx.get(gateway.base + "/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample_key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def test_metrics_count_the_traffic(gateway: GatewayServer) -> None:
    """The gateway is shared by the session, so each series is compared before and after."""
    before = samples(gateway)
    assert httpx.post(gateway.url + "/chat/completions", json=CHAT).status_code == 200
    streamed = httpx.post(gateway.url + "/chat/completions", json={**CHAT, "stream": True})
    assert streamed.status_code == 200 and "[DONE]" in streamed.text
    unknown = httpx.post(gateway.url + "/chat/completions", json={**CHAT, "model": "unknown-x"})
    assert unknown.status_code == 404
    after = samples(gateway)

    def grew(name: str, **labels: str) -> float:
        key = sample_key(name, **labels)
        return after.get(key, 0.0) - before.get(key, 0.0)

    ok = {"endpoint": "chat.completions", "model": "mock"}
    assert grew("switchboard_requests_total", **ok, status="200") == 2
    assert grew("switchboard_request_duration_seconds_count", **ok) == 2
    assert grew("switchboard_time_to_first_token_seconds_count", model="mock") == 1  # the stream
    # the mock answers 8 tokens to a 1-token prompt; mock-a costs $1 in, $2 out per 1M tokens
    assert grew("switchboard_tokens_total", model="mock", direction="output") == 16
    assert grew("switchboard_tokens_total", model="mock", direction="input") == 2
    assert grew("switchboard_cost_usd_total", model="mock") == pytest.approx(2 * 17e-6)
    assert after[sample_key("switchboard_active_requests", endpoint="chat.completions")] == 0
    text = httpx.get(gateway.base + "/metrics").text
    assert "unknown-x" not in text  # client-chosen names never become labels
    assert "sk-test" not in text
