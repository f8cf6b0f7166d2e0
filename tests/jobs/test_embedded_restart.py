"""Embedded durability: jobs accepted before `switchboard serve` is killed (kill -9) finish
after it starts again on the same database, each recorded once."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import httpx
import yaml

from switchboard.testing.harness import MockUpstream, wait_for
from switchboard.testing.processes import gateway_process, wait_healthy
from tests.conftest import SECRET


def _catalogue(tmp_path: Path, upstream: MockUpstream) -> Path:
    deployment = {"provider": "openai", "api_base": upstream.url, "api_key": SECRET,
                  "model": "mock-upstream", "name": "slow-dep",
                  "headers": {"x-mock-ttft-ms": "300", "x-mock-tokens": "3"}}  # fmt: skip
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump({"models": [{"name": "slow", "deployments": [deployment]}]}))
    return path


def _statuses(client: httpx.Client, ids: list[str]) -> list[str]:
    return [client.get(f"/v1/tasks/{i}").json()["status"] for i in ids]


def test_jobs_survive_a_killed_serve(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    env = {
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "SWITCHBOARD_JOBS_CONCURRENCY": "2",
        "SWITCHBOARD_JOBS_POLL_S": "0.2",
        "SWITCHBOARD_JOBS_LEASE_S": "30",  # a restart must not wait for the lease
    }
    config = _catalogue(tmp_path, mock_upstream)
    first = gateway_process(config, env, log=tmp_path / "serve1.log")
    first.start()
    wait_healthy(first.base_url)
    body: dict[str, Any] = {"kind": "chat.completion", "input": {"model": "slow",
                            "messages": [{"role": "user", "content": "x"}]}}  # fmt: skip
    with httpx.Client(base_url=first.base_url, timeout=10) as client:
        ids = [client.post("/v1/tasks", json=body).json()["id"] for _ in range(8)]
        assert wait_for(lambda: "running" in _statuses(client, ids), 10)
    assert first.proc is not None
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(10)
    second = gateway_process(config, env, log=tmp_path / "serve2.log")
    second.port, second.base_url = first.port, first.base_url
    second._args[second._args.index("--port") + 1] = str(first.port)
    second.start()
    try:
        wait_healthy(second.base_url)
        with httpx.Client(base_url=second.base_url, timeout=10) as client:
            assert wait_for(lambda: set(_statuses(client, ids)) == {"succeeded"}, 30), _statuses(
                client, ids
            )
            jobs = [client.get(f"/v1/tasks/{i}").json() for i in ids]
    finally:
        second.stop()
    assert len({j["result"]["id"] for j in jobs}) == len(ids)  # one result each
    assert any(j["attempts"] == 2 for j in jobs)  # the killed ones ran again
