"""The web suite: a real `switchboard serve` process (master key, SQLite key store) in front of
the mock provider process, and Debian's Chromium driven by Playwright (no browser download).

Screenshots go to `test-artifacts/web/` at the repository root (git-ignored), or to the folder
named by SWITCHBOARD_TEST_ARTIFACTS.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from switchboard.testing.processes import (
    ServiceProcess,
    gateway_process,
    wait_healthy,
)
from switchboard.testing.services import require_or_skip

MASTER = "sk-master-dashboard-0123456789"
CHROMIUM = os.environ.get("SWITCHBOARD_TEST_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Gateway:
    process: ServiceProcess

    @property
    def url(self) -> str:
        return self.process.base_url

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {MASTER}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kw)

    def new_key(self, name: str) -> tuple[str, str]:
        """A fresh API key through the admin API: (plaintext, id)."""
        resp = self.admin("POST", "/admin/keys", json={"name": name, "tenant": "web"})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        return str(body["key"]), str(body["api_key"]["id"])


def _catalogue(path: Path, upstream: ServiceProcess) -> Path:
    base = {"provider": "openai", "api_base": f"{upstream.base_url}/v1", "api_key": "sk-up"}
    price = {"input": 1.0, "output": 2.0}
    models = [
        {
            "name": "mock",  # with the exact reply cache: repeated questions are hits
            "deployments": [{**base, "name": "mock-a", "model": "m", "price": price}],
            "cache": {},
        },
        {
            "name": "mock-slow",  # 40 tokens 40 ms apart: a stream the page can be seen filling
            "deployments": [
                {
                    **base,
                    "name": "mock-slow-a",
                    "model": "m",
                    "price": price,
                    "headers": {"x-mock-itl-ms": "40", "x-mock-tokens": "40"},
                }
            ],
        },
        {
            "name": "mock-down",  # nothing listens there: its breaker opens
            "deployments": [
                {
                    "provider": "openai",
                    "name": "down-a",
                    "model": "m",
                    "api_base": "http://127.0.0.1:9/v1",
                    "connect_timeout": 0.5,
                }
            ],
        },
    ]
    slos = [  # one objective over all traffic: the lines the charts draw
        {
            "name": "all",
            "latency_s": {"p95": 0.25, "p99": 1.0},
            "ttft_s": {"p95": 0.5},
            "error_rate": 0.05,
            "window_s": 60,
        }
    ]
    path.write_text(yaml.safe_dump({"default_model": "mock", "models": models, "slos": slos}))
    return path


@pytest.fixture(scope="session")
def web_gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: ServiceProcess
) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("web")
    env = {
        "SWITCHBOARD_MASTER_KEY": MASTER,
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp / 'keys.db'}",
        "SWITCHBOARD_BREAKER_MIN_CALLS": "2",
        "SWITCHBOARD_BREAKER_MIN_SPAN_S": "0.01",
        "SWITCHBOARD_BREAKER_COOLDOWN_S": "300",
        "SWITCHBOARD_RETRY_ROUNDS": "0",
    }
    proc = gateway_process(_catalogue(tmp / "catalogue.yaml", upstream), env, tmp / "gw.log")
    proc.start()
    wait_healthy(proc.base_url)
    yield Gateway(proc)
    proc.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("SWITCHBOARD_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# package scope: sync_playwright keeps an event loop running in the main thread while it is open,
# so a later test outside tests/web that calls asyncio.run would fail if the browser outlived it
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        require_or_skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("the playwright package is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab in a fresh context: nothing in sessionStorage. The page must raise no
    script error and break none of its Content-Security-Policy (refused 401s are expected)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    yield tab
    context.close()
    assert problems == []
