"""Durability: two workers, 50 jobs, one worker killed with SIGKILL while it holds jobs: every
job completes, each with exactly one recorded result, and none is left queued or running."""

from __future__ import annotations

import os
import signal

import httpx

from switchboard.testing.harness import BackgroundLoop, run_gateway, wait_for
from tests.jobs.conftest import Distributed
from tests.jobs.test_celery import all_done, chat_job, statuses


def test_a_killed_worker_loses_no_job_and_runs_none_twice(
    distributed: Distributed, background: BackgroundLoop
) -> None:
    distributed.env["SWITCHBOARD_JOBS_LEASE_S"] = "4"  # a loaded machine may stall a beat
    victim = distributed.start_worker(concurrency=4)
    distributed.start_worker(concurrency=4)
    with (
        run_gateway(background, distributed.settings(jobs_lease_s=4)) as gw,
        httpx.Client(base_url=gw.base, timeout=10) as client,
    ):
        ids = [client.post("/v1/tasks", json=chat_job("slow", content=f"job {i}")).json()["id"]
               for i in range(50)]  # fmt: skip
        assert wait_for(lambda: list(statuses(client, ids).values()).count("running") >= 5, 20)
        os.kill(victim.pid, signal.SIGKILL)  # mid-job: 5 running in 2 x 4 slots, so it held 1+
        assert wait_for(lambda: all_done(client, ids), 60), statuses(client, ids)
        jobs = [client.get(f"/v1/tasks/{i}").json() for i in ids]
        listed = client.get("/v1/tasks", params={"limit": 100}).json()["data"]
    assert {j["status"] for j in jobs} == {"succeeded"}
    assert len({j["result"]["id"] for j in jobs}) == 50  # one result per job, none shared
    assert sorted(j["id"] for j in listed) == sorted(ids)  # no job duplicated in the table
    rerun = [j for j in jobs if j["attempts"] > 1]
    assert 1 <= len(rerun) <= 4 + 4, [j["attempts"] for j in jobs]  # held (+ prefetched)
