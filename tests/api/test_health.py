"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import httpx

from switchboard.testing.harness import GatewayServer


def test_health_and_ready(gateway: GatewayServer) -> None:
    health = httpx.get(gateway.base + "/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert "x-request-id" in health.headers
    ready = httpx.get(gateway.base + "/ready")
    assert ready.status_code == 200
    assert ready.json()["deployments"]["mock-a"] is True


def test_metrics_series_after_traffic(gateway: GatewayServer) -> None:
    httpx.post(
        gateway.url + "/chat/completions",
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
    )
    httpx.post(
        gateway.url + "/chat/completions",
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}], "stream": True},
    )
    httpx.post(
        gateway.url + "/chat/completions",
        json={"model": "unknown-x", "messages": [{"role": "user", "content": "hi"}]},
    )
    text = httpx.get(gateway.base + "/metrics").text
    assert (
        'switchboard_requests_total{endpoint="chat.completions",model="mock",status="200"}' in text
    )
    assert 'switchboard_tokens_total{direction="output",model="mock"}' in text
    assert 'switchboard_cost_usd_total{model="mock"}' in text
    assert "switchboard_time_to_first_token_seconds_bucket" in text
    assert "switchboard_request_duration_seconds_bucket" in text
    assert 'switchboard_active_requests{endpoint="chat.completions"} 0.0' in text
    assert "unknown-x" not in text  # client-chosen names never become labels
    assert "sk-test" not in text
