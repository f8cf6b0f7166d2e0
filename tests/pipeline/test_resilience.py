"""Chaos tests: the mock provider injects faults; clients must not notice when a fallback exists."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    free_port,
    run_gateway,
)
from switchboard.testing.mock_provider import MockConfig, MockProvider


@pytest.fixture(scope="module")
def flaky_upstream(background: BackgroundLoop) -> Iterator[MockUpstream]:
    provider = MockProvider(MockConfig(tokens=4, error_rate=0.3, error_status=500, seed=11))
    port = background.run(provider.start("127.0.0.1", 0))
    yield MockUpstream(provider, port)
    background.run(provider.stop())


def dep(name: str, url: str, **kw: Any) -> dict[str, Any]:
    return {"provider": "openai", "model": "up", "name": name, "api_base": url, **kw}


@pytest.fixture(scope="module")
def chaos_gateway(
    background: BackgroundLoop, mock_upstream: MockUpstream, flaky_upstream: MockUpstream
) -> Iterator[GatewayServer]:
    healthy, dead = mock_upstream.url, f"http://127.0.0.1:{free_port()}/v1"
    models = [
        {"name": "healthy", "deployments": [dep("healthy-dep", healthy)]},
        {
            "name": "flaky",
            "strategy": "priority",
            "deployments": [
                dep("flaky-primary", flaky_upstream.url, priority=0),
                dep("flaky-backup", healthy, priority=1),
            ],
        },
        {"name": "down", "deployments": [dep("dead-primary", dead)], "fallbacks": ["healthy"]},
        {
            "name": "limited",
            "deployments": [dep("limited-dep", healthy, headers={"x-mock-error-status": "429"})],
            "fallbacks": ["healthy"],
        },
        {
            "name": "limited-alone",
            "deployments": [
                dep("limited-alone-dep", healthy, headers={"x-mock-error-status": "429"})
            ],
        },
        {
            "name": "hung",
            "deployments": [dep("hung-dep", healthy, headers={"x-mock-hang": "1"}, timeout=0.3)],
            "fallbacks": ["healthy"],
        },
        {
            "name": "slow-first-token",
            "deployments": [
                dep(
                    "slow-dep", healthy, headers={"x-mock-ttft-ms": "3000"}, first_token_timeout=0.3
                )
            ],
            "fallbacks": ["healthy"],
        },
        {
            "name": "cut-early",
            "deployments": [dep("cut-early-dep", healthy, headers={"x-mock-cut-after": "0"})],
            "fallbacks": ["healthy"],
        },
        {
            "name": "cut-late",
            "deployments": [dep("cut-late-dep", healthy, headers={"x-mock-cut-after": "2"})],
            "fallbacks": ["healthy"],
        },
        {
            "name": "quota-limited",
            "deployments": [dep("quota-dep", healthy, rpm=2)],
            "fallbacks": ["healthy"],
        },
        {
            "name": "bad-request",
            "deployments": [dep("bad-dep", healthy, headers={"x-mock-error-status": "400"})],
            "fallbacks": ["healthy"],
        },
    ]
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": models}),
        breaker_min_calls=5,
        breaker_window_s=30,
        breaker_cooldown_s=60,
        breaker_min_span_s=0,
        retry_backoff_s=0.01,
        retry_after_max_s=1.5,
    )
    with run_gateway(background, settings) as server:
        yield server


def chat(gw: GatewayServer, model: str, **kw: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **kw}
    return httpx.post(gw.url + "/chat/completions", json=body, timeout=15)


def test_thirty_percent_errors_are_invisible_with_a_fallback(
    chaos_gateway: GatewayServer, flaky_upstream: MockUpstream
) -> None:
    async def run() -> tuple[Counter[int], Counter[str], int]:
        statuses: Counter[int] = Counter()
        served: Counter[str] = Counter()
        attempts = 0
        sem = asyncio.Semaphore(32)
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(timeout=15, limits=limits) as http:

            async def one() -> None:
                nonlocal attempts
                async with sem:
                    r = await http.post(
                        chaos_gateway.url + "/chat/completions",
                        json={"model": "flaky", "messages": [{"role": "user", "content": "x"}]},
                    )
                statuses[r.status_code] += 1
                served[r.headers.get("x-switchboard-deployment", "?")] += 1
                attempts += int(r.headers.get("x-switchboard-attempts", "0"))

            await asyncio.gather(*(one() for _ in range(1000)))
        return statuses, served, attempts

    statuses, served, attempts = asyncio.run(run())
    assert statuses == Counter({200: 1000})  # every accepted request answered
    injected = flaky_upstream.stats()["errors_injected"]
    assert 200 < injected < 400  # about 30% of the primary's requests failed...
    assert served["flaky-backup"] == injected  # ...and each failure went to the backup once
    assert attempts == 1000 + injected
    print(f"\n1000 requests, c=32: {injected} failovers, {attempts} upstream attempts")


def test_dead_primary_opens_the_breaker_then_costs_nothing(chaos_gateway: GatewayServer) -> None:
    for _ in range(5):  # min_calls failures open the breaker
        r = chat(chaos_gateway, "down")
        assert r.status_code == 200 and r.headers["x-switchboard-deployment"] == "healthy-dep"
        assert r.headers["x-switchboard-attempts"] == "2"
    circuits = httpx.get(chaos_gateway.base + "/ready").json()["circuits"]
    assert circuits["dead-primary"] == "open"
    for _ in range(20):  # now the dead deployment is not even tried
        r = chat(chaos_gateway, "down")
        assert r.status_code == 200 and r.headers["x-switchboard-attempts"] == "1"
    metrics = httpx.get(chaos_gateway.base + "/metrics").text
    assert 'switchboard_circuit_state{deployment="dead-primary"} 2.0' in metrics


def test_429_fails_over_and_alone_keeps_retry_after(chaos_gateway: GatewayServer) -> None:
    r = chat(chaos_gateway, "limited")
    assert r.status_code == 200 and r.headers["x-switchboard-deployment"] == "healthy-dep"
    alone = chat(chaos_gateway, "limited-alone")
    assert alone.status_code == 429
    assert alone.headers["retry-after"] == "1"
    assert alone.headers["x-switchboard-attempts"] == "2"  # waited Retry-After once, retried


def test_hanging_upstream_times_out_and_fails_over(chaos_gateway: GatewayServer) -> None:
    r = chat(chaos_gateway, "hung")
    assert r.status_code == 200 and r.headers["x-switchboard-deployment"] == "healthy-dep"


def test_first_token_timeout_fails_over_streams(chaos_gateway: GatewayServer) -> None:
    c = openai.OpenAI(base_url=chaos_gateway.url, api_key="x", max_retries=0)
    raw = c.chat.completions.with_raw_response.create(
        model="slow-first-token", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert raw.headers["x-switchboard-deployment"] == "healthy-dep"
    text = "".join(ch.choices[0].delta.content or "" for ch in raw.parse() if ch.choices)
    assert len(text.split()) == 8


def test_client_errors_are_not_retried(chaos_gateway: GatewayServer) -> None:
    r = chat(chaos_gateway, "bad-request")
    assert r.status_code == 400 and r.headers["x-switchboard-attempts"] == "1"


def test_stream_cut_before_first_token_fails_over_transparently(
    chaos_gateway: GatewayServer,
) -> None:
    c = openai.OpenAI(base_url=chaos_gateway.url, api_key="x", max_retries=0)
    raw = c.chat.completions.with_raw_response.create(
        model="cut-early", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert raw.headers["x-switchboard-attempts"] == "2"
    chunks = list(raw.parse())
    roles = [ch.choices[0].delta.role for ch in chunks if ch.choices and ch.choices[0].delta.role]
    assert roles == ["assistant"]  # one clean stream, not two stitched together
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert len(text.split()) == 8
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "stop"


def test_stream_cut_after_first_token_ends_with_an_error(chaos_gateway: GatewayServer) -> None:
    c = openai.OpenAI(base_url=chaos_gateway.url, api_key="x", max_retries=0)
    stream = c.chat.completions.create(
        model="cut-late", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    got: list[str] = []
    with pytest.raises(openai.APIError):
        for ch in stream:
            if ch.choices:
                assert ch.choices[0].finish_reason is None
                got.append(ch.choices[0].delta.content or "")
    assert len("".join(got).split()) == 2  # no failover once tokens reached the client


def test_deployment_quota_moves_traffic_to_the_fallback(chaos_gateway: GatewayServer) -> None:
    served = [
        chat(chaos_gateway, "quota-limited").headers["x-switchboard-deployment"] for _ in range(4)
    ]
    assert served == ["quota-dep", "quota-dep", "healthy-dep", "healthy-dep"]
