"""The engine's policies, in embedded mode with tasks registered by the test: retries with
exponential backoff, dead-lettering, soft and hard time limits, chains."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.config import Settings
from switchboard.jobs import ChainStep, JobContext, JobRequest, RetryableJobError
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    run_gateway,
    wait_for,
)
from tests.conftest import mock_catalogue


@pytest.fixture
def gw(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> Iterator[GatewayServer]:
    settings = Settings(catalogue=mock_catalogue(mock_upstream), jobs_poll_s=0.2,
                        database_url=f"sqlite:///{tmp_path / 'e.db'}")  # fmt: skip
    with run_gateway(background, settings) as server:
        yield server


def submit(background: BackgroundLoop, gw: GatewayServer, kind: str, **kw: Any) -> str:
    req = JobRequest(kind=kind, owner="anonymous", **kw)
    return str(background.run(gw.gateway.jobs.submit(req)).id)


def task(client: httpx.Client, task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
    return body


def finished(client: httpx.Client, task_id: str, timeout: float = 10) -> dict[str, Any]:
    assert wait_for(lambda: task(client, task_id)["status"] not in ("queued", "running"), timeout)
    return task(client, task_id)


def test_retries_back_off_exponentially_then_dead_letter(
    gw: GatewayServer, background: BackgroundLoop
) -> None:
    calls: list[float] = []

    async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
        calls.append(time.monotonic())
        raise RetryableJobError(f"try {ctx.attempt} failed")

    gw.gateway.jobs.registry.add("test.flaky", flaky, max_attempts=4, backoff_s=0.1)
    with httpx.Client(base_url=gw.base, timeout=10) as client:
        done = finished(client, submit(background, gw, "test.flaky"), 15)
    assert done["status"] == "dead_letter" and done["attempts"] == 4
    assert done["error"] == {"type": "RetryableJobError", "message": "try 4 failed"}
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert len(gaps) == 3 and gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4


def test_a_passing_failure_recovers(gw: GatewayServer, background: BackgroundLoop) -> None:
    async def second_time_lucky(ctx: JobContext, payload: dict[str, Any]) -> str:
        if ctx.attempt < 2:
            raise RetryableJobError("not yet")
        return "ok"

    gw.gateway.jobs.registry.add("test.lucky", second_time_lucky, backoff_s=0.05)
    with httpx.Client(base_url=gw.base, timeout=10) as client:
        done = finished(client, submit(background, gw, "test.lucky"))
    assert (done["status"], done["result"], done["attempts"]) == ("succeeded", "ok", 2)


def test_time_limits(gw: GatewayServer, background: BackgroundLoop) -> None:
    cleaned: list[bool] = []

    async def slow_but_tidy(ctx: JobContext, payload: dict[str, Any]) -> None:
        try:
            await asyncio.sleep(30)
        finally:
            cleaned.append(True)  # the soft limit lets the task clean up

    async def stubborn(ctx: JobContext, payload: dict[str, Any]) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(30)  # ignores the soft limit: the hard one ends it

    jobs = gw.gateway.jobs
    jobs.registry.add("test.soft", slow_but_tidy, soft_limit_s=0.3, hard_limit_s=5)
    jobs.registry.add("test.hard", stubborn, soft_limit_s=0.2, hard_limit_s=0.6, max_attempts=1)
    with httpx.Client(base_url=gw.base, timeout=10) as client:
        soft = finished(client, submit(background, gw, "test.soft"))
        hard = finished(client, submit(background, gw, "test.hard"))
    assert soft["status"] == "failed" and "time limit of 0.3 s" in soft["error"]["message"]
    assert cleaned == [True]
    assert hard["status"] == "failed" and "hard time limit" in hard["error"]["message"]


def test_a_chain_runs_each_step_with_the_result_before(
    gw: GatewayServer, background: BackgroundLoop
) -> None:
    async def double(ctx: JobContext, payload: dict[str, Any]) -> int:
        return int(payload.get("previous", payload.get("start", 0))) * 2

    gw.gateway.jobs.registry.add("test.double", double)
    chain = (ChainStep("test.double"), ChainStep("test.double"))
    first = submit(background, gw, "test.double", payload={"start": 3}, chain=chain)
    with httpx.Client(base_url=gw.base, timeout=10) as client:
        steps = [finished(client, first)]
        while steps[-1]["next_id"] is not None:
            steps.append(finished(client, steps[-1]["next_id"]))
    assert [s["result"] for s in steps] == [6, 12, 24]
    assert [s["root_id"] for s in steps] == [None, first, first]


def test_backoff_doubles_up_to_its_cap() -> None:
    from switchboard.jobs.registry import TaskSpec

    async def nothing(ctx: JobContext, payload: dict[str, Any]) -> None:
        return None

    spec = TaskSpec("t", nothing, backoff_s=0.5, backoff_max_s=3.0)
    assert [spec.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_full_runner_waits_instead_of_polling_the_job_table(
    tmp_path: Path, background: BackgroundLoop, mock_upstream: MockUpstream
) -> None:
    """Every slot busy and a retried job due: the runner sleeps until a slot frees (it used to
    re-read the job table every 10 ms for as long as the running job took)."""
    settings = Settings(catalogue=mock_catalogue(mock_upstream), jobs_concurrency=1,
                        database_url=f"sqlite:///{tmp_path / 'full.db'}")  # fmt: skip
    with run_gateway(background, settings) as gw:
        go, release = asyncio.Event(), asyncio.Event()

        async def fail_once(ctx: JobContext, payload: dict[str, Any]) -> str:
            if ctx.attempt == 1:
                await go.wait()
                raise RetryableJobError("once")
            return "retried"

        async def hold(ctx: JobContext, payload: dict[str, Any]) -> str:
            await release.wait()
            return "held"

        gw.gateway.jobs.registry.add("test.fail_once", fail_once, backoff_s=0.05)
        gw.gateway.jobs.registry.add("test.hold", hold)
        store = gw.gateway.jobs.store
        reads: list[float] = []
        next_wake = store.next_wake

        async def counted() -> Any:
            reads.append(time.monotonic())
            return await next_wake()

        store.next_wake = counted  # type: ignore[method-assign]
        with httpx.Client(base_url=gw.base, timeout=10) as client:
            retried = submit(background, gw, "test.fail_once")
            assert wait_for(lambda: task(client, retried)["status"] == "running", 10)
            held = submit(background, gw, "test.hold")
            background.run(_set(go))  # the first attempt fails; `held` takes the one slot
            assert wait_for(lambda: task(client, held)["status"] == "running", 10)
            time.sleep(0.3)  # the retry's backoff has passed: it is due, and waits
            reads.clear()
            time.sleep(1.0)
            assert task(client, retried)["status"] == "queued"
            assert len(reads) <= 3, f"{len(reads)} reads of the job table in 1 s"
            background.run(_set(release))
            assert finished(client, held)["result"] == "held"
            assert finished(client, retried)["result"] == "retried"


async def _set(event: asyncio.Event) -> None:
    event.set()
