"""OpenAI's Batch API through the real `openai` SDK (client.files, client.batches): output and
error files in OpenAI's shapes, owner scoping, spend booked once, budget reserved up front."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, MockUpstream, run_gateway, wait_for
from tests.conftest import fault_model, mock_catalogue

MASTER = "sk-master-batch-test"


def line(custom_id: str, model: str = "mock", content: str = "hi", **body: Any) -> bytes:
    request = {"model": model, "messages": [{"role": "user", "content": content}], **body}
    item = {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": request}  # fmt: skip
    return json.dumps(item).encode() + b"\n"


def new_key(base: str, tenant: str, **spec: Any) -> str:
    made = httpx.post(f"{base}/admin/keys", json={"name": tenant, "tenant": tenant, **spec},
                      headers={"Authorization": f"Bearer {MASTER}"})  # fmt: skip
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


@pytest.fixture
def gateway_url(tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream) -> Any:
    extra = [fault_model(mock_upstream, "mock-400", {"x-mock-error-status": "400"},
                         price={"input": 1.0, "output": 2.0})]  # fmt: skip
    settings = Settings(
        catalogue=mock_catalogue(mock_upstream, extra),
        database_url=f"sqlite:///{tmp_path / 'b.db'}",
        master_key=MASTER,
        key_pepper="pepper",
        jobs_poll_s=0.2,
    )
    with run_gateway(background, settings) as gw:
        yield gw.base


def wait_batch(client: openai.OpenAI, batch_id: str) -> Any:
    done = ("completed", "failed", "cancelled", "expired")
    assert wait_for(lambda: client.batches.retrieve(batch_id).status in done, 20)
    return client.batches.retrieve(batch_id)


def test_batch_end_to_end_with_the_openai_sdk(gateway_url: str) -> None:
    key = new_key(gateway_url, "acme")
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key)
    content = b"".join([line(f"req-{i}", content=f"q{i}") for i in range(4)])
    content += line("bad-one", model="mock-400")
    uploaded = client.files.create(file=("input.jsonl", content), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(content)
    assert client.files.retrieve(uploaded.id).filename == "input.jsonl"
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                  completion_window="24h", metadata={"run": "1"})  # fmt: skip
    assert batch.status == "validating" and batch.request_counts.total == 5
    done = wait_batch(client, batch.id)
    assert done.status == "completed", done
    assert (done.request_counts.completed, done.request_counts.failed) == (4, 1)
    assert done.metadata == {"run": "1"}
    out = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(o["custom_id"] for o in out) == [f"req-{i}" for i in range(4)]
    assert all(o["response"]["status_code"] == 200 for o in out)
    assert all(o["response"]["body"]["object"] == "chat.completion" for o in out)
    errors = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
    assert [e["custom_id"] for e in errors] == ["bad-one"]
    assert errors[0]["response"]["status_code"] == 400
    assert errors[0]["response"]["body"]["error"]["type"] == "invalid_request_error"
    assert [b.id for b in client.batches.list()] == [batch.id]
    again = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_headers={"Idempotency-Key": "b1"},
    )
    same = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_headers={"Idempotency-Key": "b1"},
    )
    assert same.id == again.id != batch.id
    wait_batch(client, again.id)
    assert client.batches.cancel(batch.id).status == "completed"  # finished: nothing to cancel
    for _ in range(5):  # polling books nothing
        client.batches.retrieve(batch.id)
    usage = httpx.get(f"{gateway_url}/v1/usage", headers={"Authorization": f"Bearer {key}"})
    rows = usage.json()["data"]
    assert sum(r["requests"] for r in rows) == 8  # each successful line booked exactly once
    assert sum(r["completion_tokens"] for r in rows) == 8 * 8  # (two batches of 4 good lines)


def test_foreign_and_unknown_ids_are_404(gateway_url: str) -> None:
    mine = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=new_key(gateway_url, "a"))
    theirs = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=new_key(gateway_url, "b"))
    uploaded = mine.files.create(file=("in.jsonl", line("x")), purpose="batch")
    batch = mine.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                completion_window="24h")  # fmt: skip
    with pytest.raises(openai.NotFoundError):
        theirs.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        theirs.batches.cancel(batch.id)
    with pytest.raises(openai.NotFoundError):
        theirs.files.retrieve(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        theirs.files.content(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        theirs.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                              completion_window="24h")  # fmt: skip
    with pytest.raises(openai.NotFoundError):
        mine.batches.retrieve("batch_nope")
    assert list(theirs.batches.list()) == []


def test_an_idempotency_key_names_one_request(gateway_url: str) -> None:
    key = new_key(gateway_url, "idem")
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key)
    first = client.files.create(file=("a.jsonl", line("a")), purpose="batch")
    second = client.files.create(file=("b.jsonl", line("b")), purpose="batch")
    task = {"kind": "chat.completion", "input": {"model": "mock", "messages": []}}
    made = httpx.post(
        f"{gateway_url}/v1/tasks",
        json=task,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "k1"},
    )
    assert made.status_code == 202  # fmt: skip
    with pytest.raises(openai.ConflictError) as used:  # it was a 500 before: a task's key
        client.batches.create(
            input_file_id=first.id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
            extra_headers={"Idempotency-Key": "k1"},
        )
    assert used.value.code == "idempotency_key_reused"  # fmt: skip
    batch = client.batches.create(
        input_file_id=first.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_headers={"Idempotency-Key": "k2"},
    )
    with pytest.raises(openai.ConflictError):
        client.batches.create(
            input_file_id=second.id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
            extra_headers={"Idempotency-Key": "k2"},
        )
    assert [b.id for b in client.batches.list()] == [batch.id]  # fmt: skip


def test_bad_input_files_are_400(gateway_url: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=new_key(gateway_url, "a"))
    for content in (b"not json\n", line("a") + line("a"), line("a", model="nope"), b"\n",
                    line("a", messages=[])):  # fmt: skip
        uploaded = client.files.create(file=("in.jsonl", content), purpose="batch")
        with pytest.raises(openai.BadRequestError):
            client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                  completion_window="24h")  # fmt: skip


def test_the_estimate_is_reserved_against_the_budget(gateway_url: str) -> None:
    key = new_key(gateway_url, "thrifty", budget_usd=0.01)
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key)
    # 300 lines x (a few prompt tokens + 10 reply tokens) x $1-2/M fits in $0.01 ...
    small = b"".join(line(f"s{i}", max_tokens=10) for i in range(300))
    ok = client.files.create(file=("small.jsonl", small), purpose="batch")
    first = client.batches.create(input_file_id=ok.id, endpoint="/v1/chat/completions",
                                  completion_window="24h")  # fmt: skip
    # ... but a second one, on top of the first's reservation, does not
    with pytest.raises(openai.APIStatusError) as refused:
        client.batches.create(input_file_id=ok.id, endpoint="/v1/chat/completions",
                              completion_window="24h")  # fmt: skip
    assert refused.value.status_code == 402
    assert wait_batch(client, first.id).request_counts.completed == 300
    # the first batch's hold is gone once it ended: only its real spend remains
    tiny = client.files.create(file=("tiny.jsonl", line("t", max_tokens=10)), purpose="batch")
    after = client.batches.create(input_file_id=tiny.id, endpoint="/v1/chat/completions",
                                  completion_window="24h")  # fmt: skip
    assert wait_batch(client, after.id).status == "completed"
    usage = httpx.get(f"{gateway_url}/v1/usage", headers={"Authorization": f"Bearer {key}"})
    assert usage.json()["budget"]["spent_usd"] < 0.01


def test_cli_submit_waits_with_a_progress_bar(gateway_url: str, tmp_path: Path) -> None:
    key = new_key(gateway_url, "cli")
    source = tmp_path / "questions.jsonl"
    source.write_bytes(b"".join(line(f"c{i}") for i in range(12)) + line("x", model="mock-400"))
    run = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "batch", "submit", str(source), "--wait",
         "--url", gateway_url, "--api-key", key, "--poll-s", "0.2"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    batch_id = run.stdout.strip()
    assert batch_id.startswith("batch_")
    assert "13/13" in run.stderr and "100%" in run.stderr  # the bar's last state
    assert "completed: 12 completed, 1 failed" in run.stderr
    saved = (tmp_path / "questions.output.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["custom_id"] for x in saved) == sorted(f"c{i}" for i in range(12))
    errors = (tmp_path / "questions.errors.jsonl").read_text().splitlines()
    assert [json.loads(x)["custom_id"] for x in errors] == ["x"]
