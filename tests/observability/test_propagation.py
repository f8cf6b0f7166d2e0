"""X-Request-ID and a W3C traceparent reach the upstream on every attempt (transport.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

CHAT = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def upstream_headers(mock_upstream: MockUpstream) -> dict[str, str]:
    headers = mock_upstream.last_request()["headers"]
    return {k.lower(): v for k, v in headers.items()}


def test_the_callers_trace_is_continued_with_a_new_span(
    gateway: GatewayServer, mock_upstream: MockUpstream
) -> None:
    headers = {
        "x-request-id": "req-propagated-1",
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
    }
    resp = httpx.post(gateway.url + "/chat/completions", json=CHAT, headers=headers)
    assert resp.status_code == 200
    seen = upstream_headers(mock_upstream)
    assert seen["x-request-id"] == "req-propagated-1"
    found = TRACEPARENT.match(seen["traceparent"])
    assert found is not None
    assert found[1] == CALLER_TRACE and found[2] != CALLER_SPAN and found[3] == "01"


@pytest.mark.parametrize("sent", [None, "garbage", f"00-{'0' * 32}-{CALLER_SPAN}-01"])
def test_without_a_valid_traceparent_a_new_trace_starts(
    gateway: GatewayServer, mock_upstream: MockUpstream, sent: str | None
) -> None:
    headers = {"traceparent": sent} if sent else {}
    resp = httpx.post(
        gateway.url + "/chat/completions", json={**CHAT, "stream": True}, headers=headers
    )
    assert resp.status_code == 200
    seen = upstream_headers(mock_upstream)
    assert seen["x-request-id"] == resp.headers["x-request-id"]
    found = TRACEPARENT.match(seen["traceparent"])
    assert found is not None and found[1] != "0" * 32


@pytest.fixture(scope="module")
def failing_over(
    background: BackgroundLoop, mock_upstream: MockUpstream
) -> Iterator[GatewayServer]:
    """`flaky` tries a deployment that answers 500, then one that answers."""
    base = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    models = [
        {
            "name": "flaky",
            "strategy": "priority",
            "deployments": [
                {
                    **base,
                    "name": "flaky-broken",
                    "priority": 0,
                    "headers": {"x-mock-error-status": "500"},
                },
                {**base, "name": "flaky-good", "priority": 1},
            ],
        }
    ]
    settings = Settings(catalogue=Catalogue.model_validate({"models": models}), retry_rounds=0)
    with run_gateway(background, settings) as server:
        yield server


def test_every_attempt_carries_the_request_id(
    failing_over: GatewayServer, mock_upstream: MockUpstream
) -> None:
    headers = {"x-request-id": "req-failover-1"}
    resp = httpx.post(
        failing_over.url + "/chat/completions", json={**CHAT, "model": "flaky"}, headers=headers
    )
    assert resp.status_code == 200
    assert resp.headers["x-switchboard-deployment"] == "flaky-good"
    seen = upstream_headers(mock_upstream)  # the second attempt
    assert seen["x-request-id"] == "req-failover-1"
    assert "x-mock-error-status" not in seen
    assert TRACEPARENT.match(seen["traceparent"])
