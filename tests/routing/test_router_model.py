"""A router model (`auto`) sends each query to its tier's model, locally or via an LLM judge."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    chat_upstream,
    run_gateway,
)

COMPLEX = (
    "Design a multi-region, active-active payment ledger with exactly-once settlement. "
    "Compare consensus options, give the failure modes during a network partition, prove the "
    "invariants you rely on, and write the reconciliation algorithm step by step."
)


@pytest.fixture(scope="module")
def judge(background: BackgroundLoop) -> Iterator[str]:
    """An OpenAI-compatible stand-in that always judges queries `moderate`."""

    async def chat(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "id": "j",
                "object": "chat.completion",
                "created": 0,
                "model": "judge",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "Moderate"},
                     "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )  # fmt: skip

    with chat_upstream(background, chat) as url:
        yield url


@pytest.fixture(scope="module")
def routed(
    background: BackgroundLoop, mock_upstream: MockUpstream, judge: str
) -> Iterator[GatewayServer]:
    def model(name: str, url: str) -> dict[str, Any]:
        dep = {"provider": "openai", "model": "up", "name": f"{name}-dep", "api_base": url}
        return {"name": name, "deployments": [dep]}

    up = mock_upstream.url
    tiers = {"simple": "cheap", "moderate": "mid", "complex": "strong"}
    models = [
        model("cheap", up),
        model("mid", up),
        model("strong", up),
        model("judge", judge),
        {"name": "auto", "router": tiers},
        {"name": "auto-llm", "router": {**tiers, "classifier": "llm", "classifier_model": "judge"}},
    ]
    settings = Settings(catalogue=Catalogue.model_validate({"models": models}))
    with run_gateway(background, settings) as server:
        yield server


def ask(gw: GatewayServer, model: str, text: str) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    resp = httpx.post(gw.url + "/chat/completions", json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp


def test_simple_query_goes_to_the_cheap_model(routed: GatewayServer) -> None:
    resp = ask(routed, "auto", "hi there!")
    assert resp.headers["x-switchboard-tier"] == "simple"
    assert resp.headers["x-switchboard-deployment"] == "cheap-dep"
    assert resp.json()["model"] == "auto"


def test_complex_query_goes_to_the_strong_model(routed: GatewayServer) -> None:
    resp = ask(routed, "auto", COMPLEX)
    assert resp.headers["x-switchboard-tier"] == "complex"
    assert resp.headers["x-switchboard-deployment"] == "strong-dep"


def test_llm_classifier_is_used_when_configured(routed: GatewayServer) -> None:
    resp = ask(routed, "auto-llm", "hi there!")  # the judge says moderate, whatever the query
    assert resp.headers["x-switchboard-tier"] == "moderate"
    assert resp.headers["x-switchboard-deployment"] == "mid-dep"


def test_router_lists_as_a_model_and_refuses_embeddings(routed: GatewayServer) -> None:
    ids = [m["id"] for m in httpx.get(routed.url + "/models").json()["data"]]
    assert "auto" in ids
    resp = httpx.post(routed.url + "/embeddings", json={"model": "auto", "input": "x"})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "model"


def test_llm_classifier_call_goes_through_the_pipeline(routed: GatewayServer) -> None:
    """The judge is asked as the internal endpoint `internal.classifier`: recorded, routed and
    called with breakers and retries like any request, never around the pipeline."""

    def judged() -> float:
        for line in httpx.get(f"http://127.0.0.1:{routed.port}/metrics").text.splitlines():
            if line.startswith("switchboard_requests_total{") and (
                'endpoint="internal.classifier"' in line and 'model="judge"' in line
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = judged()
    ask(routed, "auto-llm", "hi there!")
    assert judged() == before + 1
