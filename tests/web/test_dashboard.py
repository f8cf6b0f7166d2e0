"""The dashboard in a real Chromium: sign in with the master key, watch the charts move after
traffic, see breaker states, deployments and spend, stream a reply in the playground; a wrong
key sees no data. Screenshots are kept as artifacts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import MASTER, Gateway

pytestmark = pytest.mark.timeout(180)
HIDDEN = "() => Object.defineProperty(document, 'hidden', {get: () => %s, configurable: true})"


def _chat(gateway: Gateway, key: str, model: str, n: int, pause_s: float = 0.0) -> list[int]:
    statuses = []
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        for i in range(n):
            resp = client.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={
                    "model": model,
                    "messages": [{"role": "user", "content": f"hi {i % 10}"}],
                    "temperature": 0,
                },
            )
            statuses.append(resp.status_code)
            time.sleep(pause_s)
    return statuses


def _sign_in(page: Any, gateway: Gateway, key: str) -> None:
    page.goto(f"{gateway.url}/dashboard")
    page.wait_for_selector("#login-form", state="visible")
    page.fill("#admin-key", key)
    page.click("#login-submit")


def _chart(page: Any, name: str, field: str) -> int:
    return int(page.get_attribute(f"#chart-{name}", f"data-{field}") or 0)


def test_wrong_key_sees_no_data(page: Any, web_gateway: Gateway, artifacts: Path) -> None:
    answers: list[tuple[str, int]] = []
    page.on("response", lambda r: answers.append((r.url, r.status)))
    _sign_in(page, web_gateway, "sk-not-the-master-key")
    page.wait_for_function("() => document.getElementById('login-error').textContent.length > 0")
    assert "refused" in page.inner_text("#login-error")
    assert page.is_hidden("#board")
    assert page.inner_text("#tile-rps") == "\u2013"  # the placeholder: never filled
    assert page.eval_on_selector_all("#deployments tbody tr", "rows => rows.length") == 0
    assert page.evaluate("sessionStorage.getItem('switchboard.adminKey')") is None
    data = [status for url, status in answers if "/dashboard/api/" in url]
    assert data and set(data) == {401}
    page.screenshot(path=str(artifacts / "wrong-key.png"), full_page=True)


def test_charts_follow_traffic(page: Any, web_gateway: Gateway, artifacts: Path) -> None:
    key, key_id = web_gateway.new_key("charts")
    _sign_in(page, web_gateway, MASTER)
    page.wait_for_selector("#board", state="visible")
    page.wait_for_function("() => Number(document.getElementById('board').dataset.polls) >= 1")
    total_before = int(page.inner_text("#tile-total"))
    rps_before = _chart(page, "rps", "nonzero")

    assert set(_chat(web_gateway, key, "mock", 30)) == {200}
    assert _chat(web_gateway, key, "mock-down", 3, pause_s=0.03) == [502, 502, 503]  # open

    # the next polls bring the new seconds: every chart fed by that traffic moves
    page.wait_for_function(
        "() => Number(document.getElementById('chart-rps').dataset.nonzero) > "
        f"{rps_before} && Number(document.getElementById('tile-total').textContent) >= "
        f"{total_before + 33}",
        timeout=15_000,
    )
    page.wait_for_function(
        "() => Number(document.getElementById('chart-latency').dataset.nonzero) > 0 && "
        "Number(document.getElementById('chart-errors').dataset.nonzero) > 0 && "
        "Number(document.getElementById('chart-cache').dataset.nonzero) > 0",
        timeout=15_000,
    )
    assert float(page.inner_text("#tile-rps")) > 0
    assert page.inner_text("#tile-p50").endswith("ms")
    assert page.inner_text("#tile-errors").endswith("%")
    # 10 questions asked 3 times each: 20 of the 30 came from the cache (a window that has
    # slid past the first, missed, askings shows more)
    assert 66.0 <= float(page.inner_text("#tile-cache").rstrip("%")) <= 100.0

    rows = page.eval_on_selector_all(
        "#deployments tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    by_id = {row[0]: row for row in rows}
    assert by_id["mock-a"][3] == "closed" and by_id["down-a"][3] == "open"
    assert by_id["down-a"][7] == "0 / 2"  # two calls failed; the third found the breaker open
    assert by_id["mock-a"][7] == "10 / 0"  # 20 of the 30 were answered by the cache

    # the objective's targets are the charts' dashed lines, and its report is a row
    assert page.get_attribute("#chart-latency", "data-slo") == "250,1000"
    assert page.get_attribute("#chart-ttft", "data-slo") == "500"
    assert page.get_attribute("#chart-errors", "data-slo") == "5"
    page.wait_for_function(
        "() => document.getElementById('slo').innerText.includes('error_rate')", timeout=15_000
    )
    slo = page.eval_on_selector_all(
        "#slo tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    assert slo[0][0] == "all" and "error_rate" in slo[0][-1]  # 3 of 33 were 5xx: over 5%

    # spend by key and by model this month, from GET /admin/cost (the usage store)
    page.wait_for_function(
        f"() => document.getElementById('spend-key').innerText.includes('{key_id}')", timeout=20_000
    )
    spenders = page.eval_on_selector_all(
        "#spend-key tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    assert [key_id, "charts", "web"] in [row[:3] for row in spenders]
    assert "mock" in page.inner_text("#spend-model")
    assert "projected" in page.inner_text("#spend-model-note")
    page.screenshot(path=str(artifacts / "charts.png"), full_page=True)


def test_playground_streams_a_reply(page: Any, web_gateway: Gateway, artifacts: Path) -> None:
    key, _ = web_gateway.new_key("playground")
    _sign_in(page, web_gateway, MASTER)
    page.wait_for_selector("#board", state="visible")
    options = page.eval_on_selector_all("#pg-model option", "os => os.map(o => o.value)")
    assert options == ["mock", "mock-slow", "mock-down"]

    # the master key is not an API key: without one the gateway's refusal is shown
    page.select_option("#pg-model", "mock")
    page.click("#pg-send")
    page.wait_for_function("() => document.getElementById('pg-error').textContent.length > 0")
    assert "API key" in page.inner_text("#pg-error")

    page.fill("#pg-key", key)
    page.select_option("#pg-model", "mock-slow")
    page.fill("#pg-max-tokens", "40")
    page.click("#pg-send")
    # seen part-way: some text, still streaming (40 tokens take ~1.6 s)
    page.wait_for_function("() => document.getElementById('pg-output').textContent.length > 0")
    assert page.get_attribute("#playground", "data-state") == "streaming"
    partial = page.inner_text("#pg-output")
    page.screenshot(path=str(artifacts / "playground-streaming.png"), full_page=True)
    page.wait_for_function(
        "() => document.getElementById('playground').dataset.state === 'done'", timeout=20_000
    )
    final = page.inner_text("#pg-output")
    assert len(final) > len(partial) > 0
    assert page.inner_text("#pg-error") == ""
    stats = page.inner_text("#pg-stats")
    assert "TTFT" in stats and "40 tokens" in stats
    page.screenshot(path=str(artifacts / "playground.png"), full_page=True)


def test_a_hidden_tab_does_not_poll(page: Any, web_gateway: Gateway) -> None:
    _sign_in(page, web_gateway, MASTER)
    page.wait_for_selector("#board", state="visible")
    assert page.get_attribute("#board", "data-polls") is not None
    page.evaluate(
        "() => Object.defineProperty(document, 'hidden', {get: () => true, configurable: true})"
    )
    polls = int(page.get_attribute("#board", "data-polls") or 0)
    page.wait_for_timeout(5_000)  # two and a half poll periods
    assert int(page.get_attribute("#board", "data-polls") or 0) <= polls + 1  # one in flight
    page.evaluate(
        "() => Object.defineProperty(document, 'hidden', {get: () => false, configurable: true})"
    )
    page.wait_for_function(
        f"() => Number(document.getElementById('board').dataset.polls) > {polls + 1}",
        timeout=10_000,
    )
