"""`switchboard serve --workers N`: Redis required, one /metrics view, graceful drain; and
`serve --server granian`.

Real processes: the mock provider, `switchboard serve --workers 2` against the local Redis.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from switchboard.testing.harness import free_port
from switchboard.testing.processes import (
    ServiceProcess,
    StreamReader,
    mock_provider_process,
    wait_healthy,
)
from switchboard.testing.services import accepts_connections, redis_url, require_or_skip

REDIS = redis_url()
TOKENS = 40
ITL_MS = 50  # a stream of about 2 s: SIGTERM lands mid-stream
GRACE_S = 10


def test_more_than_one_worker_without_redis_is_a_clear_startup_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "serve", "--workers", "2",
         "--port", str(free_port())],
        env={**env, "SWITCHBOARD_PRELOAD_LOCAL_MODEL": "false"},
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--workers 2 needs shared state: set SWITCHBOARD_REDIS_URL" in done.stderr


def test_workers_must_be_a_positive_number_or_auto() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "serve", "--workers", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "--workers takes a number >= 1 or auto" in done.stderr


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[ServiceProcess, Path]]:
    if not accepts_connections(REDIS):
        require_or_skip(f"needs Redis at {REDIS}")
    upstream = mock_provider_process(log=tmp_path / "mock.log")
    upstream.start()
    deployment = {
        "provider": "openai",
        "name": "mock-dep",
        "model": "m",
        "api_base": f"{upstream.base_url}/v1",
        "api_key": "sk-upstream",
    }
    slow = {
        **deployment,
        "name": "slow-dep",
        "headers": {"x-mock-itl-ms": str(ITL_MS), "x-mock-tokens": str(TOKENS)},
    }
    catalogue = {
        "models": [
            {"name": "mock", "deployments": [deployment]},
            {"name": "mock-slow", "deployments": [slow]},
        ]
    }
    config = tmp_path / "catalogue.yaml"
    config.write_text(yaml.safe_dump(catalogue))
    metrics_dir = tmp_path / "metrics"
    env = {
        "SWITCHBOARD_PRELOAD_LOCAL_MODEL": "false",
        "SWITCHBOARD_GRACEFUL_SHUTDOWN_S": str(GRACE_S),
        "SWITCHBOARD_REDIS_URL": REDIS,
        "SWITCHBOARD_REDIS_PREFIX": f"sbworkers:{uuid.uuid4().hex}:",
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    port = free_port()
    args = ["serve", "--workers", "2", "--config", str(config), "--port", str(port)]
    gw = ServiceProcess(args, port, env=env, log=tmp_path / "gateway.log")
    try:
        gw.start()
        wait_healthy(gw.base_url)
        yield gw, metrics_dir
    finally:
        gw.stop()
        upstream.stop()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except ConnectionRefusedError:
        return True
    return False


def _requests_total(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    found = re.findall(r'^switchboard_requests_total\{[^}]*status="200"[^}]*\} (\S+)$', text, re.M)
    return sum(float(v) for v in found)


def test_two_workers_serve_one_metrics_view_and_drain_on_sigterm(
    two_workers: tuple[ServiceProcess, Path],
) -> None:
    gw, metrics_dir = two_workers
    body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(40):  # a connection each, so the kernel hands both workers some
        assert httpx.post(f"{gw.base_url}/v1/chat/completions", json=body).status_code == 200
    files = sorted(p.name for p in metrics_dir.glob("counter_*.db"))
    problems = [ln for ln in gw.log_text().splitlines() if "switchboard.request" not in ln]
    assert len(files) == 2, f"both workers served: {files}\n" + "\n".join(problems[-60:])
    seen = [_requests_total(gw.base_url) for _ in range(10)]  # whichever worker answers
    assert seen == [40.0] * 10
    text = httpx.get(f"{gw.base_url}/metrics", timeout=5).text  # the job table's gauges, once
    assert text.count("# TYPE switchboard_jobs_queued gauge") == 1
    assert 'switchboard_jobs_queued{kind="chat.completion"} 0.0' in text

    stream_body = {**body, "model": "mock-slow", "stream": True}
    reader = StreamReader(f"{gw.base_url}/v1/chat/completions", stream_body)
    assert reader.start(), f"the stream never started: {reader.errors}"
    assert gw.proc is not None
    sent_at = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    deadline = sent_at + 2
    while not _refused(gw.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _refused(gw.port), "still accepting connections after SIGTERM"
    assert reader.is_alive(), "the stream ended before the listeners closed; lengthen it"
    code = gw.proc.wait(timeout=GRACE_S + 10)
    reader.join(5)
    assert not reader.errors, reader.errors
    assert time.monotonic() - sent_at < GRACE_S
    assert reader.lines[-1] == "data: [DONE]"
    assert len([line for line in reader.lines if '"content"' in line]) >= TOKENS
    assert code == 0, gw.log_text()[-2000:]


def test_granian_serves_the_same_app(tmp_path: Path) -> None:
    pytest.importorskip("granian", reason="the granian extra is not installed")
    upstream = mock_provider_process(log=tmp_path / "mock.log")
    upstream.start()
    dep = {"provider": "openai", "model": "m", "api_base": f"{upstream.base_url}/v1"}
    config = tmp_path / "catalogue.yaml"
    config.write_text(yaml.safe_dump({"models": [{"name": "mock", "deployments": [dep]}]}))
    port = free_port()
    args = ["serve", "--server", "granian", "--config", str(config), "--port", str(port)]
    env = {"SWITCHBOARD_PRELOAD_LOCAL_MODEL": "false",
           "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}"}  # fmt: skip
    gw = ServiceProcess(args, port, env=env, log=tmp_path / "gateway.log")
    try:
        gw.start()
        wait_healthy(gw.base_url)
        body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
        reply = httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, timeout=10)
        assert reply.status_code == 200 and reply.json()["usage"]["completion_tokens"] == 8
        with httpx.stream("POST", f"{gw.base_url}/v1/chat/completions",
                          json={**body, "stream": True}, timeout=10) as resp:  # fmt: skip
            lines = [line for line in resp.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]" and len(lines) >= 9
        bad = httpx.post(f"{gw.base_url}/v1/chat/completions", content=b"{", timeout=10)
        assert bad.status_code == 400
    finally:
        code = gw.stop()
        upstream.stop()
    assert code == 0, gw.log_text()[-2000:]
