"""Keys, limits and budgets through the real HTTP surface, backed by real Redis and SQLite."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    run_gateway,
    wait_for,
)

MASTER = "mk-test-master-key-123456"


@pytest.fixture(scope="module")
def secured(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    db: Path = tmp_path_factory.mktemp("keys") / "keys.db"
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    models = [
        {
            "name": "mock",
            "deployments": [{**dep, "name": "sec-mock", "price": {"input": 1, "output": 2}}],
        },
        {"name": "other", "deployments": [{**dep, "name": "sec-other"}]},
        {
            "name": "pricey",  # $1,000 per 1M output tokens: a few requests spend real money
            "deployments": [{**dep, "name": "sec-pricey", "price": {"input": 0, "output": 1000}}],
        },
        {
            "name": "slow",
            "deployments": [{**dep, "name": "sec-slow", "headers": {"x-mock-ttft-ms": "1500"}}],
        },
    ]
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": models}),
        master_key=MASTER,
        metrics_token="metrics-token-xyz",
        database_url=f"sqlite:///{db}",
        redis_url="redis://127.0.0.1:6379/0",
        redis_prefix=f"sbtest:{uuid.uuid4().hex}:",
    )
    with run_gateway(background, settings) as server:
        yield server


def new_key(gw: GatewayServer, **spec: Any) -> tuple[str, dict[str, Any]]:
    body = {"name": "test", "tenant": "acme", **spec}
    resp = httpx.post(
        gw.base + "/admin/keys", json=body, headers={"authorization": f"Bearer {MASTER}"}
    )
    assert resp.status_code == 201, resp.text
    data = resp.json()
    return data["key"], data["api_key"]


def chat(gw: GatewayServer, key: str | None, model: str = "mock", **kw: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, **kw}
    return httpx.post(gw.url + "/chat/completions", json=body, headers=headers, timeout=15)


def test_missing_and_invalid_keys_are_401(secured: GatewayServer) -> None:
    resp = chat(secured, None)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "missing_api_key"
    resp = chat(secured, "sk-sb-not-a-real-key-000000000000000000000000000")
    assert resp.status_code == 401 and resp.json()["error"]["type"] == "authentication_error"


def test_valid_key_works_with_the_sdk_and_x_api_key(secured: GatewayServer) -> None:
    key, _ = new_key(secured)
    client = openai.OpenAI(base_url=secured.url, api_key=key, max_retries=0)
    resp = client.chat.completions.create(
        model="mock", messages=[{"role": "user", "content": "hi"}]
    )
    assert resp.choices[0].message.content
    alt = httpx.post(
        secured.url + "/chat/completions",
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": key},
    )
    assert alt.status_code == 200


def test_revoked_key_is_401_and_model_not_allowed_is_403(secured: GatewayServer) -> None:
    key, record = new_key(secured, allowed_models=["mock"])
    assert chat(secured, key).status_code == 200
    denied = chat(secured, key, model="other")
    assert denied.status_code == 403 and denied.json()["error"]["param"] == "model"
    httpx.post(
        f"{secured.base}/admin/keys/{record['id']}/revoke",
        headers={"authorization": f"Bearer {MASTER}"},
    )
    resp = chat(secured, key)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "api_key_revoked"


def test_rpm_limit_with_openai_headers(secured: GatewayServer) -> None:
    key, _ = new_key(secured, rpm=3)
    oks = [chat(secured, key) for _ in range(3)]
    assert all(r.status_code == 200 for r in oks)
    assert oks[0].headers["x-ratelimit-limit-requests"] == "3"
    assert [r.headers["x-ratelimit-remaining-requests"] for r in oks] == ["2", "1", "0"]
    denied = chat(secured, key)
    assert denied.status_code == 429
    assert int(denied.headers["retry-after"]) >= 1
    assert denied.headers["x-ratelimit-remaining-requests"] == "0"
    assert denied.json()["error"]["type"] == "rate_limit_error"


def test_tpm_limit_counts_reserved_tokens(secured: GatewayServer) -> None:
    key, _ = new_key(secured, tpm=100)
    too_big = chat(secured, key, max_tokens=500)  # can never fit
    assert too_big.status_code == 429
    ok = chat(secured, key, max_tokens=20)
    assert ok.status_code == 200
    assert int(ok.headers["x-ratelimit-remaining-tokens"]) <= 100 - 20
    assert ok.headers["x-ratelimit-limit-tokens"] == "100"


def test_budget_is_enforced_before_the_upstream(
    secured: GatewayServer, mock_upstream: MockUpstream
) -> None:
    # each reply: 8 tokens x $1000/1M = $0.008; the budget holds two replies
    key, _ = new_key(secured, budget_usd=0.02)
    assert chat(secured, key, model="pricey").status_code == 200
    assert chat(secured, key, model="pricey").status_code == 200
    before = mock_upstream.stats()["chat_requests"]
    denied = chat(secured, key, model="pricey")
    assert denied.status_code == 402
    assert denied.json()["error"]["code"] == "budget_exceeded"
    assert mock_upstream.stats()["chat_requests"] == before  # refused before any upstream call
    usage = httpx.get(secured.url + "/usage", headers={"authorization": f"Bearer {key}"}).json()
    assert usage["budget"]["spent_usd"] == pytest.approx(0.016, abs=1e-9)
    assert sum(row["requests"] for row in usage["data"]) == 2


def test_streamed_usage_is_charged(secured: GatewayServer) -> None:
    key, _ = new_key(secured, budget_usd=1.0)
    client = openai.OpenAI(base_url=secured.url, api_key=key, max_retries=0)
    list(
        client.chat.completions.create(
            model="pricey", messages=[{"role": "user", "content": "hi"}], stream=True, max_tokens=5
        )
    )
    usage = httpx.get(secured.url + "/usage", headers={"authorization": f"Bearer {key}"}).json()
    assert usage["budget"]["spent_usd"] == pytest.approx(0.005, abs=1e-9)  # 5 tokens x $1000/1M


def test_concurrency_limit(secured: GatewayServer, mock_upstream: MockUpstream) -> None:
    import threading

    key, _ = new_key(secured, max_concurrency=1)
    results: list[int] = []
    before = mock_upstream.stats()["chat_requests"]
    slow = threading.Thread(
        target=lambda: results.append(chat(secured, key, model="slow").status_code)
    )
    slow.start()
    # the slow request holds the slot once it reached the upstream (which answers after 1.5 s)
    assert wait_for(lambda: mock_upstream.stats()["chat_requests"] > before, timeout=5)
    second = chat(secured, key)
    slow.join()
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "concurrency_limit_exceeded"
    assert results == [200]
    assert chat(secured, key).status_code == 200  # the slot was released


def test_websocket_needs_a_key(secured: GatewayServer) -> None:
    with pytest.raises(InvalidStatus):
        with connect(f"ws://127.0.0.1:{secured.port}/ws/chat/c1"):
            pass
    key, _ = new_key(secured)
    with connect(f"ws://127.0.0.1:{secured.port}/ws/chat/c1?api_key={key}") as ws:
        ws.send('{"id": "1", "message": "hi"}')
        assert '"ack"' in str(ws.recv(timeout=10))


def test_metrics_token_and_no_secrets_anywhere(
    secured: GatewayServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key, _ = new_key(secured, rpm=1)
    chat(secured, key)
    chat(secured, key)  # 429
    bogus = "sk-sb-bogus-secret-value-99999999999999999999999999"
    chat(secured, bogus)
    assert httpx.get(secured.base + "/metrics").status_code == 401
    metrics = httpx.get(
        secured.base + "/metrics", headers={"authorization": "Bearer metrics-token-xyz"}
    ).text
    assert "switchboard_requests_total" in metrics
    for secret in (key, bogus, MASTER, key[:20]):
        assert secret not in metrics
        assert secret not in caplog.text


def test_ready_reports_the_stores(secured: GatewayServer) -> None:
    ready = httpx.get(secured.base + "/ready")
    assert ready.status_code == 200
    assert ready.json()["stores"] == {"database": True, "redis": True}
