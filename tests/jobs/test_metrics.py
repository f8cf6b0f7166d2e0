"""Job metrics on /metrics, scraped and parsed as Prometheus text while real jobs run: the
embedded runner's outcomes, retries and durations, the queue gauges read from the job table,
webhook deliveries and batch lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from switchboard.config import Settings
from switchboard.jobs import JobContext, JobRequest, RetryableJobError
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    run_gateway,
    wait_for,
)
from tests.conftest import fault_model, mock_catalogue
from tests.jobs.test_webhooks import receiver


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by (name, labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(base: str) -> str:
    reply = httpx.get(f"{base}/metrics", timeout=10)
    assert reply.status_code == 200
    return reply.text


def _settings(tmp_path: Path, upstream: MockUpstream, **kw: Any) -> Settings:
    extra = [fault_model(upstream, "mock-400", {"x-mock-error-status": "400"})]
    values: dict[str, Any] = {"catalogue": mock_catalogue(upstream, extra), "jobs_poll_s": 0.2,
                              "database_url": f"sqlite:///{tmp_path / 'm.db'}",
                              "jobs_gauges_cache_s": 0.0, **kw}  # fmt: skip
    return Settings(**values)


@pytest.fixture
def gw(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> Iterator[GatewayServer]:
    with run_gateway(background, _settings(tmp_path, mock_upstream)) as server:
        yield server


def submit(background: BackgroundLoop, gw: GatewayServer, kind: str) -> str:
    return str(background.run(gw.gateway.jobs.submit(JobRequest(kind, "anonymous"))).id)


def finished(base: str, task_id: str) -> bool:
    status = httpx.get(f"{base}/v1/tasks/{task_id}").json()["status"]
    return status not in ("queued", "running")


def test_outcomes_retries_and_durations_by_kind(
    gw: GatewayServer, background: BackgroundLoop
) -> None:
    async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise RetryableJobError("always")

    async def lucky(ctx: JobContext, payload: dict[str, Any]) -> str:
        if ctx.attempt < 2:
            raise RetryableJobError("not yet")
        return "ok"

    async def broken(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise ValueError("a bug, not retried")

    registry = gw.gateway.jobs.registry
    registry.add("test.flaky", flaky, max_attempts=3, backoff_s=0.05)
    registry.add("test.lucky", lucky, backoff_s=0.05)
    registry.add("test.broken", broken)
    before = scrape(gw.base)
    chat = {"kind": "chat.completion", "input": {"model": "mock",
            "messages": [{"role": "user", "content": "hi"}]}}  # fmt: skip
    ids = [httpx.post(f"{gw.base}/v1/tasks", json=chat).json()["id"] for _ in range(2)]
    ids += [submit(background, gw, k) for k in ("test.flaky", "test.lucky", "test.broken")]
    assert wait_for(lambda: all(finished(gw.base, i) for i in ids), 15)
    after = scrape(gw.base)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    finished_ = "switchboard_jobs_finished_total"
    assert delta("switchboard_jobs_submitted_total", kind="chat.completion") == 2
    assert delta("switchboard_jobs_submitted_total", kind="test.flaky") == 1
    assert delta(finished_, kind="chat.completion", outcome="succeeded") == 2
    assert delta(finished_, kind="test.flaky", outcome="dead_letter") == 1
    assert delta(finished_, kind="test.lucky", outcome="succeeded") == 1
    assert delta(finished_, kind="test.broken", outcome="failed") == 1
    assert delta("switchboard_jobs_retries_total", kind="test.flaky") == 2
    assert delta("switchboard_jobs_retries_total", kind="test.lucky") == 1
    runs = "switchboard_job_duration_seconds_count"
    assert delta(runs, kind="test.flaky") == 3 and delta(runs, kind="chat.completion") == 2
    assert value(after, "switchboard_job_duration_seconds_sum", kind="chat.completion") > 0


def test_queue_gauges_come_from_the_job_table_and_are_cached(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    settings = _settings(tmp_path, mock_upstream, jobs_concurrency=1, jobs_gauges_cache_s=3.0)
    with run_gateway(background, settings) as gw:
        release = asyncio.Event()

        async def blocker(ctx: JobContext, payload: dict[str, Any]) -> None:
            await release.wait()

        gw.gateway.jobs.registry.add("test.block", blocker)
        first = submit(background, gw, "test.block")
        assert wait_for(
            lambda: httpx.get(f"{gw.base}/v1/tasks/{first}").json()["status"] == "running", 10
        )
        waiting = [submit(background, gw, "test.block") for _ in range(3)]
        text = scrape(gw.base)
        assert value(text, "switchboard_jobs_running", kind="test.block") == 1
        assert value(text, "switchboard_jobs_queued", kind="test.block") == 3
        assert value(text, "switchboard_jobs_queued", kind="chat.completion") == 0  # registered
        assert value(text, "switchboard_jobs_table_up") == 1
        assert value(text, "switchboard_jobs_oldest_queued_age_seconds", kind="test.block") >= 0
        waiting.append(submit(background, gw, "test.block"))
        cached = scrape(gw.base)  # within the 3 s cache: the same reading
        assert value(cached, "switchboard_jobs_queued", kind="test.block") == 3
        assert wait_for(lambda: value(scrape(gw.base), "switchboard_jobs_queued",
                                      kind="test.block") == 4, 10)  # fmt: skip
        aged = value(scrape(gw.base), "switchboard_jobs_oldest_queued_age_seconds",
                     kind="test.block")  # fmt: skip
        assert aged >= 2.0  # the first waiting job has waited at least the cache's 3 s less 1
        background.loop.call_soon_threadsafe(release.set)
        assert wait_for(lambda: all(finished(gw.base, i) for i in [first, *waiting]), 15)
        assert wait_for(lambda: value(scrape(gw.base), "switchboard_jobs_queued",
                                      kind="test.block") == 0, 10)  # fmt: skip


def test_webhook_deliveries_by_outcome(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    settings = _settings(tmp_path, mock_upstream, webhook_secret="whsec-test",
                         webhook_allow_private=True, webhook_backoff_s=0.1,
                         webhook_max_attempts=3)  # fmt: skip
    chat = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
    with (
        receiver(background, 500) as (_, bad_url),
        receiver(background, 204) as (_, good_url),
        run_gateway(background, settings) as gw,
    ):
        ids = [httpx.post(f"{gw.base}/v1/tasks", json={"kind": "chat.completion", "input": chat,
                                                      "callback_url": url}).json()["id"]
               for url in (bad_url, good_url)]  # fmt: skip

        def callbacks_settled() -> bool:
            views = [httpx.get(f"{gw.base}/v1/tasks/{i}").json() for i in ids]
            return [v["callback_status"] for v in views] == ["failed", "delivered"]

        assert wait_for(callbacks_settled, 15)
        text = scrape(gw.base)
    deliveries = "switchboard_webhook_deliveries_total"
    assert value(text, deliveries, outcome="delivered") == 1
    assert value(text, deliveries, outcome="failed") == 2
    assert value(text, deliveries, outcome="abandoned") == 1
    assert value(text, "switchboard_jobs_finished_total", kind="switchboard.webhook",
                 outcome="dead_letter") == 1  # fmt: skip


def test_batch_lines_by_outcome(gw: GatewayServer) -> None:
    lines = [{"custom_id": f"l{i}", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": model, "messages": [{"role": "user", "content": f"q{i}"}]}}
             for i, model in enumerate(["mock", "mock", "mock", "mock-400"])]  # fmt: skip
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    client = openai.OpenAI(base_url=gw.url, api_key="unused")
    uploaded = client.files.create(file=("in.jsonl", content), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                  completion_window="24h")  # fmt: skip
    assert wait_for(lambda: client.batches.retrieve(batch.id).status == "completed", 20)
    text = scrape(gw.base)
    assert value(text, "switchboard_batch_lines_total", outcome="succeeded") == 3
    assert value(text, "switchboard_batch_lines_total", outcome="failed") == 1
    assert value(text, "switchboard_jobs_finished_total", kind="batch.run",
                 outcome="succeeded") == 1  # fmt: skip
