"""SIGTERM on a real `switchboard serve`: it stops accepting at once, lets the stream in flight
finish within SWITCHBOARD_GRACEFUL_SHUTDOWN_S, then exits 0 (what a Kubernetes rollout needs)."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from switchboard.testing.processes import (
    ServiceProcess,
    StreamReader,
    gateway_process,
    mock_provider_process,
    wait_healthy,
)

TOKENS = 40
ITL_MS = 50  # the stream lasts about 2 s, so SIGTERM lands mid-stream
GRACE_S = 10


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[ServiceProcess]:
    upstream = mock_provider_process(log=tmp_path / "mock.log")
    upstream.start()
    deployment = {
        "provider": "openai",
        "name": "mock-slow-a",
        "model": "m",
        "api_base": f"{upstream.base_url}/v1",
        "api_key": "sk-upstream",
        "headers": {"x-mock-itl-ms": str(ITL_MS), "x-mock-tokens": str(TOKENS)},
    }
    catalogue = {"models": [{"name": "mock-slow", "deployments": [deployment]}]}
    config = tmp_path / "catalogue.yaml"
    config.write_text(yaml.safe_dump(catalogue))
    env = {
        "SWITCHBOARD_GRACEFUL_SHUTDOWN_S": str(GRACE_S),
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}",
    }
    gw = gateway_process(config, env, log=tmp_path / "gateway.log")
    try:
        gw.start()
        wait_healthy(gw.base_url)
        yield gw
    finally:
        gw.stop()
        upstream.stop()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_finishes_the_stream_in_flight_and_refuses_new_connections(
    gateway: ServiceProcess,
) -> None:
    assert gateway.proc is not None
    body = {"model": "mock-slow", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    reader = StreamReader(f"{gateway.base_url}/v1/chat/completions", body)
    assert reader.start(), f"the stream never started: {reader.errors}"
    sent_at = time.monotonic()
    gateway.proc.send_signal(signal.SIGTERM)

    deadline = sent_at + 2
    while not _refused(gateway.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _refused(gateway.port), "still accepting connections after SIGTERM"
    assert reader.is_alive(), "the stream ended before the listener closed; lengthen it"

    code = gateway.proc.wait(timeout=GRACE_S + 5)
    reader.join(5)
    took = time.monotonic() - sent_at
    assert not reader.errors, reader.errors
    assert reader.status == 200
    assert took < GRACE_S, f"exited after {took:.1f} s: the grace period ran out"
    assert reader.lines[-1] == "data: [DONE]"
    content = [line for line in reader.lines if '"content"' in line]
    assert len(content) >= TOKENS, f"{len(content)} content chunks of {TOKENS}"
    assert "Application shutdown complete" in gateway.log_text()
    assert code == 0, gateway.log_text()[-2000:]  # 143 would mean SIGTERM killed it
