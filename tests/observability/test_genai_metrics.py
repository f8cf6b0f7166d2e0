"""GenAI semantic-convention metrics (names, units, buckets, labels; the draft ones behind
OTEL_SEMCONV_STABILITY_OPT_IN), inter-token latency per model, cost per tenant with bounded
labels, and /metrics size and memory flat after traffic from 100,000 distinct keys."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics
from prometheus_client.parser import text_string_to_metric_families

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.domain import Usage
from switchboard.observability.events import RequestFinished
from switchboard.observability.genai_metrics import (
    DURATION_BUCKETS,
    PER_TOKEN_BUCKETS,
    TOKEN_BUCKETS,
    TTFT_BUCKETS,
    GenAiMetrics,
    latest_experimental,
)
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

MASTER = "mk-genai-metrics-0123456789abcdef"


@pytest.fixture(scope="module")
def gateway(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    base = {"provider": "openai", "api_base": mock_upstream.url, "price": {"output": 1000}}
    ticking = {"x-mock-itl-ms": "20", "x-mock-tokens": "6"}
    models = [
        {"name": "gm", "deployments": [{**base, "model": "gm-up", "name": "gm-dep"}]},
        {"name": "gm-tick", "deployments": [{**base, "model": "tick-up", "name": "tick-dep",
                                              "headers": ticking}]},
    ]  # fmt: skip
    catalogue = Catalogue.model_validate({"models": models, "tenants": {"acme": {}}})
    db: Path = tmp_path_factory.mktemp("genai") / "keys.db"
    settings = Settings(catalogue=catalogue, master_key=MASTER, database_url=f"sqlite:///{db}")
    with run_gateway(background, settings) as server:
        yield server


def key_of(gw: GatewayServer, tenant: str) -> str:
    resp = httpx.post(
        gw.base + "/admin/keys",
        json={"name": "gm", "tenant": tenant},
        headers={"authorization": f"Bearer {MASTER}"},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])


def families(gw: GatewayServer) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    text = httpx.get(gw.base + "/metrics").text
    return {
        f.name: [(s.name, s.labels, s.value) for s in f.samples]
        for f in text_string_to_metric_families(text)
    }


def buckets(samples: list[tuple[str, dict[str, str], float]], **labels: str) -> list[float]:
    return [
        float(lab["le"])
        for name, lab, _ in samples
        if name.endswith("_bucket") and lab["le"] != "+Inf" and labels.items() <= lab.items()
    ]


def test_genai_names_units_buckets_and_labels(gateway: GatewayServer) -> None:
    key = key_of(gateway, "acme")
    auth = {"authorization": f"Bearer {key}"}
    chat = {"model": "gm-tick", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.stream("POST", gateway.url + "/chat/completions", json=chat, headers=auth) as r:
        assert r.status_code == 200
        "".join(r.iter_text())
    found = families(gateway)
    who = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai",
        "gen_ai_request_model": "gm-tick",
        "gen_ai_response_model": "tick-up",
    }
    expected = {
        "gen_ai_client_operation_duration_seconds": DURATION_BUCKETS,
        "gen_ai_server_time_to_first_token_seconds": TTFT_BUCKETS,
        "gen_ai_server_time_per_output_token_seconds": PER_TOKEN_BUCKETS,
    }
    for name, bounds in expected.items():
        assert buckets(found[name], **who) == list(bounds), name
    usage = found["gen_ai_client_token_usage"]
    assert buckets(usage, **who, gen_ai_token_type="output") == list(TOKEN_BUCKETS)
    out = {**who, "gen_ai_token_type": "output"}
    (out_sum,) = [v for n, lab, v in usage if n.endswith("_sum") and lab == out]
    assert out_sum == 6
    # six tokens 20 ms apart: inter-token latency ~20 ms (per model and as the GenAI family)
    itl = found["switchboard_inter_token_latency_seconds"]
    (itl_sum,) = [v for n, lab, v in itl if n.endswith("_sum") and lab["model"] == "gm-tick"]
    assert 0.015 < itl_sum < 0.2
    # units as OpenMetrics declares them
    units = openmetrics(gateway.gateway.metrics.registry).decode()
    assert "# UNIT gen_ai_client_operation_duration_seconds seconds" in units
    assert "# UNIT gen_ai_server_time_to_first_token_seconds seconds" in units
    # the draft instruments are off by default
    assert "gen_ai_client_operation_time_to_first_chunk_seconds" not in found


def test_cost_per_tenant_keeps_unconfigured_tenants_in_one_label(gateway: GatewayServer) -> None:
    for tenant in ("acme", "tenant-nobody-configured"):
        auth = {"authorization": f"Bearer {key_of(gateway, tenant)}"}
        chat = {"model": "gm", "messages": [{"role": "user", "content": "hi"}]}
        assert (
            httpx.post(gateway.url + "/chat/completions", json=chat, headers=auth).status_code
            == 200
        )
    found = families(gateway)["switchboard_tenant_cost_usd"]
    tenants = {lab["tenant"] for _, lab, v in found if lab["model"] == "gm" and v > 0}
    assert tenants == {"acme", "other"}
    assert "tenant-nobody-configured" not in httpx.get(gateway.base + "/metrics").text


def test_draft_instruments_behind_the_opt_in() -> None:
    assert latest_experimental({"OTEL_SEMCONV_STABILITY_OPT_IN": "http,gen_ai_latest_experimental"})
    assert not latest_experimental({"OTEL_SEMCONV_STABILITY_OPT_IN": "http"})
    assert not latest_experimental({})
    registry = CollectorRegistry()
    metrics = GenAiMetrics(registry, experimental=True)
    metrics.request_finished(event(0, "k", streamed=True))
    text = openmetrics(registry).decode()
    for name in ("gen_ai_client_operation_time_to_first_chunk_seconds",
                 "gen_ai_client_operation_time_per_output_chunk_seconds",
                 "gen_ai_server_request_duration_seconds"):  # fmt: skip
        assert f"# UNIT {name} seconds" in text and f"{name}_count" in text


def event(
    i: int, key: str, *, streamed: bool = False, tenant: str | None = None
) -> RequestFinished:
    return RequestFinished(
        request_id=f"r{i}", endpoint="chat.completions", model="gm", deployment="gm-dep",
        status=200 if i % 50 else 429, outcome="ok", stream=streamed,
        usage=Usage(prompt_tokens=10, completion_tokens=20), usage_estimated=False,
        cost_usd=0.001, latency_s=0.05 + (i % 7) / 100, ttft_s=0.01 if streamed else None,
        overhead_s=0.0002, attempts=1, key_id=key, tenant=tenant or f"tenant-{key}",
        provider="openai", requested_model="gm", response_model="gm-up",
    )  # fmt: skip


def test_metrics_size_and_memory_flat_after_100k_distinct_keys(
    gateway: GatewayServer, background: BackgroundLoop
) -> None:
    """Events of 100,000 distinct keys and tenants through the gateway's own bus (every
    subscriber: metrics, GenAI metrics, SLO buckets, live stats, usage): no per-key series."""
    bus = gateway.gateway.bus

    async def publish(first: int, last: int) -> None:
        for i in range(first, last):
            bus.finished(event(i, f"key-{i:06d}", streamed=i % 2 == 0))
            if i % 5000 == 0:
                await asyncio.sleep(0)  # let the usage recorder flush

    # 100,000 request log lines are the log's business (and a test run would keep them in its
    # captured output): this test weighs what the metrics and stores keep
    request_log = logging.getLogger("switchboard.request")
    level = request_log.level
    request_log.setLevel(logging.WARNING)
    try:
        background.run(publish(0, 10_000), timeout=120)
        before = httpx.get(gateway.base + "/metrics").text
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        background.run(publish(10_000, 100_000), timeout=300)
        background.run(gateway.gateway.usage.flush(), timeout=120)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        request_log.setLevel(level)
    after = httpx.get(gateway.base + "/metrics").text
    assert "key-0" not in after and "tenant-key" not in after
    assert len(after) < len(before) * 1.02, (len(before), len(after))  # digits grow, series don't
    assert end - start < 2_000_000, f"{(end - start) / 1e6:.1f} MB kept for 90,000 new keys"
