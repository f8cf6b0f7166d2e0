"""Job metrics with real `switchboard worker` processes: the worker serves its own /metrics
(outcomes and durations of the jobs it ran), the API's /metrics counts the submissions and
reads the queue gauges from the shared PostgreSQL job table."""

from __future__ import annotations

import httpx

from switchboard.testing.harness import BackgroundLoop, free_port, run_gateway, wait_for
from tests.jobs.conftest import Distributed
from tests.jobs.test_celery import all_done, chat_job, statuses
from tests.jobs.test_metrics import scrape, value


def test_the_worker_serves_its_job_metrics_and_the_api_the_queue(
    distributed: Distributed, background: BackgroundLoop
) -> None:
    settings = distributed.settings(jobs_gauges_cache_s=0.0)
    with (
        run_gateway(background, settings) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        ids = [client.post("/v1/tasks", json=chat_job(content=f"q{i}")).json()["id"]
               for i in range(3)]  # fmt: skip
        waiting = scrape(gw.base)  # no worker yet: all three wait in the table
        assert value(waiting, "switchboard_jobs_queued", kind="chat.completion") == 3
        assert value(waiting, "switchboard_jobs_oldest_queued_age_seconds",
                     kind="chat.completion") > 0  # fmt: skip
        assert value(waiting, "switchboard_jobs_submitted_total", kind="chat.completion") == 3
        port = free_port()
        distributed.start_worker(concurrency=2, SWITCHBOARD_WORKER_METRICS_PORT=str(port))
        assert wait_for(lambda: all_done(client, ids), 30), statuses(client, ids)
        worker = scrape(f"http://127.0.0.1:{port}")
        api = scrape(gw.base)
    assert value(worker, "switchboard_jobs_finished_total", kind="chat.completion",
                 outcome="succeeded") == 3  # fmt: skip
    assert value(worker, "switchboard_job_duration_seconds_count", kind="chat.completion") == 3
    assert value(worker, "switchboard_requests_total", endpoint="jobs.chat.completions",
                 model="mock", status="200") == 3  # fmt: skip
    assert value(api, "switchboard_jobs_queued", kind="chat.completion") == 0
    assert value(api, "switchboard_jobs_finished_total", kind="chat.completion",
                 outcome="succeeded") == 0  # fmt: skip
