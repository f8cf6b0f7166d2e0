"""Embedded mode: `serve` with no broker runs jobs itself from the SQLite job table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, MockUpstream, run_gateway, wait_for
from tests.conftest import fault_model, mock_catalogue


def _settings(tmp_path: Path, upstream: MockUpstream, **kw: Any) -> Settings:
    return Settings(
        catalogue=mock_catalogue(upstream),
        database_url=f"sqlite:///{tmp_path / 'jobs.db'}",
        jobs_poll_s=0.2,
        jobs_lease_s=2.0,
        **kw,
    )


def _chat(content: str = "hi") -> dict[str, Any]:
    return {"kind": "chat.completion", "input": {"model": "mock",
            "messages": [{"role": "user", "content": content}]}}  # fmt: skip


def _finished(client: httpx.Client, task_id: str) -> dict[str, Any] | None:
    body: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
    return body if body["status"] not in ("queued", "running") else None


def test_chat_job_runs_through_the_pipeline(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    with (
        run_gateway(background, _settings(tmp_path, mock_upstream)) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        created = client.post("/v1/tasks", json=_chat())
        assert created.status_code == 202, created.text
        task = created.json()
        assert task["status"] == "queued" and task["object"] == "task"
        assert wait_for(lambda: _finished(client, task["id"]) is not None, 10)
        done = client.get(f"/v1/tasks/{task['id']}").json()
        assert done["status"] == "succeeded", done
        assert done["progress"] == 100
        assert done["result"]["object"] == "chat.completion"
        assert done["result"]["usage"]["completion_tokens"] == 8
        assert done["finished_at"] >= done["started_at"] >= done["created_at"]
        listed = client.get("/v1/tasks").json()
        assert [t["id"] for t in listed["data"]] == [task["id"]]


MASTER = "sk-master-jobs-test"


def _key(client: httpx.Client, tenant: str) -> dict[str, str]:
    made = client.post(
        "/admin/keys",
        json={"name": tenant, "tenant": tenant},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['key']}"}


def test_jobs_belong_to_their_key_and_idempotency_returns_the_same_job(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    settings = _settings(tmp_path, mock_upstream, master_key=MASTER, key_pepper="pepper")
    with (
        run_gateway(background, settings) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        alice, bob = _key(client, "alice"), _key(client, "bob")
        once = {**alice, "Idempotency-Key": "order-42"}
        first = client.post("/v1/tasks", json=_chat(), headers=once).json()
        again = client.post("/v1/tasks", json=_chat(), headers=once).json()
        assert again["id"] == first["id"]
        other = client.post("/v1/tasks", json=_chat("other"), headers=once)
        assert other.status_code == 409  # the key names the first request, not a new one
        assert other.json()["error"]["code"] == "idempotency_key_reused"
        bobs = client.post(
            "/v1/tasks", json=_chat(), headers={**bob, "Idempotency-Key": "order-42"}
        )
        assert bobs.json()["id"] != first["id"]  # idempotency keys are per owner too
        for method in ("GET", "DELETE"):
            foreign = client.request(method, f"/v1/tasks/{first['id']}", headers=bob)
            assert foreign.status_code == 404
            assert foreign.json()["error"]["type"] == "invalid_request_error"
        assert [t["id"] for t in client.get("/v1/tasks", headers=bob).json()["data"]] == [
            bobs.json()["id"]
        ]
        assert client.get("/v1/tasks/task_nope", headers=alice).status_code == 404
        assert client.get("/v1/tasks", headers={}).status_code == 401
        assert wait_for(
            lambda: (
                client.get(f"/v1/tasks/{first['id']}", headers=alice).json()["status"]
                == "succeeded"
            ),
            10,
        )


def test_unknown_kind_and_bad_input_are_400(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    with (
        run_gateway(background, _settings(tmp_path, mock_upstream)) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        for body in (
            {"kind": "switchboard.webhook", "input": {}},  # internal kinds are not public
            {"kind": "nope", "input": {}},
            {"kind": "chat.completion", "input": {}, "priority": 12},
            {"kind": "chat.completion", "input": {}, "callback_url": "http://127.0.0.1/x"},
        ):
            reply = client.post("/v1/tasks", json=body)
            assert reply.status_code == 400, (body, reply.text)


def test_a_chat_job_with_a_bad_body_fails_with_the_reason(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    with (
        run_gateway(background, _settings(tmp_path, mock_upstream)) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        bad = {"kind": "chat.completion", "input": {"model": "mock", "messages": []}}
        task = client.post("/v1/tasks", json=bad).json()
        assert wait_for(lambda: _finished(client, task["id"]) is not None, 10)
        done = client.get(f"/v1/tasks/{task['id']}").json()
        assert done["status"] == "failed" and done["attempts"] == 1
        assert done["error"]["type"] == "ValidationError"


def test_cancel_stops_a_running_job(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    settings = _settings(tmp_path, mock_upstream)
    settings.jobs_lease_s = 0.6  # the lease keeper looks every 0.2 s
    catalogue = mock_catalogue(
        mock_upstream, [fault_model(mock_upstream, "slow", {"x-mock-ttft-ms": "20000",
                                                              "x-mock-tokens": "4"})]
    )  # fmt: skip
    settings.catalogue = catalogue
    with (
        run_gateway(background, settings) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        body = {"kind": "chat.completion", "input": {"model": "slow", "messages": [
            {"role": "user", "content": "long"}]}}  # fmt: skip
        task = client.post("/v1/tasks", json=body).json()
        assert wait_for(lambda: client.get(f"/v1/tasks/{task['id']}").json()["status"]
                        == "running", 10)  # fmt: skip
        cancelled = client.delete(f"/v1/tasks/{task['id']}").json()
        assert cancelled["status"] == "cancelled"
        running = gw.gateway.jobs.queue._running  # the runner lets go of it
        assert wait_for(lambda: task["id"] not in running, 5)
        assert client.get(f"/v1/tasks/{task['id']}").json()["status"] == "cancelled"
