"""GET /admin/architecture on a running gateway (master key) and `switchboard
export-architecture`, both with the figures the gateway measured."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway
from tests.conftest import mock_catalogue
from tests.export.test_formats import READERS

MASTER = "sk-master-architecture-0123"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    """A gateway with the admin API on, keys off for /v1, after three chat requests."""
    db = tmp_path_factory.mktemp("arch") / "keys.db"
    settings = Settings(
        catalogue=mock_catalogue(mock_upstream),
        master_key=SecretStr(MASTER),
        auth_enabled=False,
        database_url=f"sqlite:///{db}",
    )
    with run_gateway(background, settings) as server:
        body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
        for _ in range(3):
            assert httpx.post(f"{server.url}/chat/completions", json=body, timeout=10).is_success
        yield server


def _get(server: GatewayServer, query: str, key: str | None = MASTER) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{server.base}/admin/architecture{query}", headers=headers, timeout=30)


def test_the_route_serves_each_format_with_live_figures(served: GatewayServer) -> None:
    resp = _get(served, "?format=xlsx")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="switchboard-architecture.xlsx"' in resp.headers["content-disposition"]
    text, diagrams = READERS["xlsx"](resp.content)
    assert "mock-a" in text and diagrams == 1

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(resp.content))["Measured latency and cost"]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True)}
    assert rows["mock"][1] == "3"  # requests measured by this gateway
    assert str(rows["mock"][3]).endswith(" ms")  # p50

    md = _get(served, "").text  # default format: Markdown
    assert "| mock-a | mock | openai |" in md and "closed" in md
    assert "database: up" in md


def test_the_route_needs_the_master_key_and_a_known_format(served: GatewayServer) -> None:
    assert _get(served, "?format=pdf", key=None).status_code == 401
    assert _get(served, "?format=pdf", key="sk-wrong").status_code == 401
    bad = _get(served, "?format=odt")
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "format"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "switchboard.cli", "export-architecture", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_command_reads_a_running_gateway(served: GatewayServer, tmp_path: Path) -> None:
    out = tmp_path / "arch.pdf"
    config = str(ROOT / "deploy" / "catalogue.yaml")
    done = _cli("--format", "pdf", "--out", str(out), "--config", config, "--from-url", served.base)
    assert done.returncode == 0, done.stderr
    text, _ = READERS["pdf"](out.read_bytes())
    assert "mock-a" in text
    assert " ms" in text  # the live p50/p95/p99 of the gateway it read


def test_the_command_writes_markdown_to_stdout_and_reports_bad_config(tmp_path: Path) -> None:
    done = _cli("--config", str(ROOT / "deploy" / "catalogue.yaml"))
    assert done.returncode == 0, done.stderr
    assert "| mock-a | mock | openai |" in done.stdout
    assert "No running gateway was read" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: []\n")
    failed = _cli("--config", str(bad))
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr and "switchboard config check" in failed.stderr
