"""Ingestion on a real Celery worker: the API stores the document and sends the chain
rag.chunk -> rag.embed -> rag.index through the broker; the worker runs it (its own MiniLM and
in-process index), and the API's index follows the shared PostgreSQL store to answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from switchboard.testing.harness import BackgroundLoop, run_gateway
from tests.jobs.conftest import Distributed


def ready(client: httpx.Client, doc_id: str, version: int) -> bool:
    doc = client.get(f"/v1/documents/{doc_id}").json()
    assert doc["status"] != "failed", doc
    return bool(doc["status"] == "ready" and doc["indexed_version"] == version)


def wait(predicate: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.parametrize("distributed", ["redis"], indirect=True)
def test_a_worker_ingests_and_the_api_retrieves(
    distributed: Distributed, background: BackgroundLoop
) -> None:
    distributed.start_worker(concurrency=2)
    with (
        run_gateway(background, distributed.settings()) as gw,
        httpx.Client(base_url=gw.base, timeout=30) as client,
    ):
        docs = {
            "owls": "Barn owls hunt mice at night over open fields.",
            "tea": "Green tea is made from unoxidised leaves of Camellia sinensis.",
        }
        tasks = []
        for doc_id, text in docs.items():
            posted = client.post("/v1/documents", json={"id": doc_id, "content": text})
            assert posted.status_code == 202, posted.text
            tasks.append(posted.json()["task_id"])
        wait(lambda: all(ready(client, d, 1) for d in docs))
        answer = client.post("/v1/rag", json={"query": "Which bird hunts mice?", "model": "mock"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["sources"][0]["document_id"] == "owls"  # the first look catches up
        posted = client.post("/v1/documents", json={"id": "owls", "content": "Bats eat moths."})
        wait(lambda: ready(client, "owls", 2))

        def owls() -> list[str]:
            found = client.post("/v1/rag", json={"query": "night hunters", "model": "mock"})
            return [s["text"] for s in found.json()["sources"] if s["document_id"] == "owls"]

        # the API's index looks at the store at most once a second: the new version within ~1 s
        wait(lambda: owls() == ["Bats eat moths."], timeout=5)
        kinds, job = [], client.get(f"/v1/tasks/{tasks[0]}").json()
        while True:
            assert job["status"] == "succeeded", job
            kinds.append(job["kind"])
            if not job.get("next_id"):
                break
            job = client.get(f"/v1/tasks/{job['next_id']}").json()
        assert kinds == ["rag.chunk", "rag.embed", "rag.index"]


@pytest.mark.parametrize("distributed", ["redis"], indirect=True)
def test_switchboard_eval_runs_as_a_job_on_the_workers(
    distributed: Distributed, tmp_path: Path
) -> None:
    distributed.start_worker(concurrency=2)
    data = tmp_path / "qa.jsonl"
    rows = [{"question": f"question {i}", "answer": "lorem"} for i in range(3)]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "eval", str(data), "--model", "mock",
         "--config", str(distributed.config), "--out", str(out)],
        env={**os.environ, "HF_HUB_OFFLINE": "1", **distributed.env},
        capture_output=True, text=True, cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "submitted job task_" in done.stderr  # the workers ran it, not this process
    report = json.loads(out.read_text())
    assert (report["items"], report["answered"], report["errors"]) == (3, 3, 0)
    assert report["usage"]["completion_tokens"] == 3 * 8  # the mock's 8 tokens an answer
    assert report["cost_usd"] > 0
