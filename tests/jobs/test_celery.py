"""Distributed mode: the API sends job ids through a real broker (Redis or RabbitMQ) to real
`switchboard worker` processes; state and results live in PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from switchboard.testing.harness import BackgroundLoop, run_gateway, wait_for
from tests.jobs.conftest import Distributed


def chat_job(model: str = "mock", priority: int = 5, content: str = "hi") -> dict[str, Any]:
    return {"kind": "chat.completion", "priority": priority, "input": {"model": model,
            "messages": [{"role": "user", "content": content}]}}  # fmt: skip


def statuses(client: httpx.Client, ids: list[str]) -> dict[str, str]:
    return {i: client.get(f"/v1/tasks/{i}").json()["status"] for i in ids}


def all_done(client: httpx.Client, ids: list[str]) -> bool:
    return set(statuses(client, ids).values()) <= {"succeeded", "failed", "dead_letter"}


def test_worker_runs_jobs_through_the_pipeline(
    distributed: Distributed, background: BackgroundLoop
) -> None:
    distributed.start_worker(concurrency=2)
    with (
        run_gateway(background, distributed.settings()) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        ids = [client.post("/v1/tasks", json=chat_job(content=f"q{i}")).json()["id"]
               for i in range(6)]  # fmt: skip
        assert wait_for(lambda: all_done(client, ids), 30), statuses(client, ids)
        jobs = [client.get(f"/v1/tasks/{i}").json() for i in ids]
    assert {j["status"] for j in jobs} == {"succeeded"}
    assert all(j["result"]["usage"]["completion_tokens"] == 8 for j in jobs)
    assert all(j["attempts"] == 1 for j in jobs)


def test_priorities_run_the_urgent_job_first(
    distributed: Distributed, background: BackgroundLoop
) -> None:
    with (
        run_gateway(background, distributed.settings()) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        slow = chat_job("slow", priority=0)
        low = [client.post("/v1/tasks", json=slow).json()["id"] for _ in range(5)]
        urgent = client.post("/v1/tasks", json=chat_job("slow", priority=9)).json()["id"]
        distributed.start_worker(concurrency=1)  # one slot: the queue order decides
        assert wait_for(lambda: all_done(client, [*low, urgent]), 30)
        store = gw.gateway.jobs.store
        order = sorted([*low, urgent], key=lambda i: background.run(store.get(i)).started_at)
    assert urgent in order[:2]  # one low job may already be in the worker's hand


def test_a_batch_runs_on_a_worker_with_the_openai_sdk(
    distributed: Distributed, background: BackgroundLoop
) -> None:
    import json

    import openai

    distributed.start_worker(concurrency=2)
    lines = [{"custom_id": f"w{i}", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": "mock", "messages": [{"role": "user", "content": f"q{i}"}]}}
             for i in range(20)]  # fmt: skip
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    with run_gateway(background, distributed.settings()) as gw:
        client = openai.OpenAI(base_url=gw.url, api_key="unused")
        uploaded = client.files.create(file=("in.jsonl", content), purpose="batch")
        batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                      completion_window="24h")  # fmt: skip
        assert wait_for(lambda: client.batches.retrieve(batch.id).status == "completed", 30)
        done = client.batches.retrieve(batch.id)
        assert done.output_file_id is not None
        output = client.files.content(done.output_file_id).text.splitlines()
    assert done.request_counts.completed == 20 and done.request_counts.failed == 0
    assert sorted(json.loads(x)["custom_id"] for x in output) == sorted(f"w{i}" for i in range(20))
