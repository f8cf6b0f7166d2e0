"""Embedded durability: jobs accepted before `switchboard serve` is killed (kill -9) finish
after it starts again on the same database, each recorded once."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import yaml

from switchboard.testing.harness import MockUpstream, wait_for
from switchboard.testing.processes import ServiceProcess, gateway_process, wait_healthy
from tests.conftest import SECRET

MASTER = "sk-master-restart"


def _catalogue(tmp_path: Path, upstream: MockUpstream, ttft_ms: int = 300) -> Path:
    deployment = {"provider": "openai", "api_base": upstream.url, "api_key": SECRET,
                  "model": "mock-upstream", "name": "slow-dep", "price": {"input": 1, "output": 2},
                  "headers": {"x-mock-ttft-ms": str(ttft_ms), "x-mock-tokens": "3"}}  # fmt: skip
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
        "SWITCHBOARD_JOBS_LEASE_S": "2",  # the dead process's jobs are taken when it runs out
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
    second = _kill_and_restart(first, config, env, tmp_path)
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


def _kill_and_restart(
    first: ServiceProcess, config: Path, env: dict[str, str], tmp_path: Path
) -> ServiceProcess:
    """SIGKILL the serve process, then start another on the same port and database."""
    assert first.proc is not None
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(10)
    second = gateway_process(config, env, log=tmp_path / "serve2.log")
    second.port, second.base_url = first.port, first.base_url
    second._args[second._args.index("--port") + 1] = str(first.port)
    second.start()
    wait_healthy(second.base_url)
    return second


def test_a_batch_survives_a_killed_serve_with_each_line_once(
    tmp_path: Path, mock_upstream: MockUpstream
) -> None:
    env = {
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "SWITCHBOARD_MASTER_KEY": MASTER,
        "SWITCHBOARD_KEY_PEPPER": "pepper",
        "SWITCHBOARD_JOBS_POLL_S": "0.2",
        "SWITCHBOARD_BATCH_CONCURRENCY": "8",
        "SWITCHBOARD_JOBS_LEASE_S": "2",
    }
    config = _catalogue(tmp_path, mock_upstream, ttft_ms=40)
    first = gateway_process(config, env, log=tmp_path / "serve1.log")
    first.start()
    wait_healthy(first.base_url)
    made = httpx.post(f"{first.base_url}/admin/keys", json={"name": "k", "tenant": "t"},
                      headers={"Authorization": f"Bearer {MASTER}"})  # fmt: skip
    auth = {"Authorization": f"Bearer {made.json()['key']}"}
    lines = [{"custom_id": f"line-{i}", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": "slow", "messages": [{"role": "user", "content": f"q{i}"}]}}
             for i in range(200)]  # fmt: skip
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    with httpx.Client(base_url=first.base_url, timeout=10, headers=auth) as client:
        file_id = client.post("/v1/files", files={"file": ("in.jsonl", content)},
                              data={"purpose": "batch"}).json()["id"]  # fmt: skip
        batch = client.post("/v1/batches", json={"input_file_id": file_id, "completion_window":
                            "24h", "endpoint": "/v1/chat/completions"}).json()  # fmt: skip

        def counted() -> int:
            counts = client.get(f"/v1/batches/{batch['id']}").json()["request_counts"]
            return int(counts["completed"])

        assert wait_for(lambda: counted() >= 40, 30)
    second = _kill_and_restart(first, config, env, tmp_path)
    try:
        with httpx.Client(base_url=second.base_url, timeout=10, headers=auth) as client:
            assert 40 <= client.get(f"/v1/batches/{batch['id']}").json()["request_counts"][
                "completed"] < 200  # fmt: skip
            assert wait_for(lambda: client.get(f"/v1/batches/{batch['id']}").json()["status"]
                            == "completed", 60)  # fmt: skip
            done = client.get(f"/v1/batches/{batch['id']}").json()
            output = client.get(f"/v1/files/{done['output_file_id']}/content").text
            usage = client.get("/v1/usage").json()["data"]
    finally:
        second.stop()
    assert done["request_counts"] == {"total": 200, "completed": 200, "failed": 0}
    ids = [json.loads(x)["custom_id"] for x in output.splitlines()]
    assert sorted(ids) == sorted(line["custom_id"] for line in lines)  # each line exactly once
    assert sum(r["requests"] for r in usage) == 200  # spend booked once per line
    assert sum(r["completion_tokens"] for r in usage) == 200 * 3
