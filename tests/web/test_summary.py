"""`GET /dashboard/api/summary` and the page's HTTP surface, without a browser: the master key
guards the data, the page and its assets hold none, bad parameters are 400s, /openapi.json lists
both."""

from __future__ import annotations

import httpx
import pytest

from switchboard.testing.harness import GatewayServer
from tests.web.conftest import MASTER, Gateway


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-wrong"}])
def test_summary_needs_the_master_key(web_gateway: Gateway, headers: dict[str, str]) -> None:
    resp = httpx.get(f"{web_gateway.url}/dashboard/api/summary", headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "invalid_master_key"
    assert "series" not in resp.text


def test_api_key_is_not_an_admin_key(web_gateway: Gateway) -> None:
    key, _ = web_gateway.new_key("not-admin")
    resp = httpx.get(
        f"{web_gateway.url}/dashboard/api/summary",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 401


def test_summary_shape(web_gateway: Gateway) -> None:
    resp = web_gateway.admin("GET", "/dashboard/api/summary?history=30&window=5")
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["object"] == "dashboard.summary" and body["keys_enabled"] is True
    assert len(body["series"]) == 30 and body["window_s"] == 5
    assert [m["name"] for m in body["models"] if m["default"]] == ["mock"]
    deployments = {d["id"]: d for d in body["deployments"]}
    assert set(deployments) == {"mock-a", "mock-slow-a", "down-a"}
    assert deployments["mock-a"]["provider"] == "openai"
    assert {"window_successes", "window_failures"} <= set(deployments["mock-a"])
    assert web_gateway.process.proc is not None
    assert body["scope"] == "replica" and body["replicas"] == 1  # no Redis: this process's
    assert body["replica"].endswith(f":{web_gateway.process.proc.pid}")
    later = web_gateway.admin("GET", f"/dashboard/api/summary?since={body['series'][-1]['t']}")
    assert all(p["t"] > body["series"][-1]["t"] for p in later.json()["series"])


@pytest.mark.parametrize("query", ["window=0", "window=61", "since=-1", "history=x"])
def test_bad_parameters_are_400(web_gateway: Gateway, query: str) -> None:
    resp = web_gateway.admin("GET", f"/dashboard/api/summary?{query}")
    assert resp.status_code == 400
    assert resp.json()["error"]["type"] == "invalid_request_error"


def test_page_and_assets_are_open_and_hold_no_data(web_gateway: Gateway) -> None:
    page = httpx.get(f"{web_gateway.url}/dashboard", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "unsafe" not in page.headers["content-security-policy"]
    assert MASTER not in page.text and "mock-a" not in page.text
    script = httpx.get(f"{web_gateway.url}/dashboard/assets/vendor/uPlot.iife.min.js")
    assert script.status_code == 200 and "uPlot" in script.text
    licence = httpx.get(f"{web_gateway.url}/dashboard/assets/vendor/uPlot.LICENSE")
    assert "MIT License" in licence.text
    for path in ("/dashboard/assets/../__init__.py", "/dashboard/assets/nothing.js"):
        assert httpx.get(f"{web_gateway.url}{path}").status_code == 404


def test_openapi_lists_the_dashboard(web_gateway: Gateway) -> None:
    spec = httpx.get(f"{web_gateway.url}/openapi.json", timeout=10).json()
    summary = spec["paths"]["/dashboard/api/summary"]["get"]
    ok = summary["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/DashboardSummary")
    assert "text/html" in spec["paths"]["/dashboard"]["get"]["responses"]["200"]["content"]


def test_open_gateway_has_open_numbers(gateway: GatewayServer) -> None:
    """No master key and no API keys: the whole gateway is open, its dashboard data too."""
    httpx.post(
        f"{gateway.url}/chat/completions",
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    )
    body = httpx.get(f"{gateway.base}/dashboard/api/summary", timeout=10).json()
    assert body["keys_enabled"] is False and body["requests_total"] >= 1
    assert "mock" in body["spend_by_model"]
