"""Background jobs: throughput through one Celery worker, and recovery from a killed worker.

    python -m bench.jobs [--jobs 400] [--broker redis|amqp|both]

Needs PostgreSQL (own schema, dropped after), Redis and/or RabbitMQ on this machine.
1. Throughput: N `switchboard.ping` jobs (no work: the engine's own cost: a row insert, a
   broker message, a claim and an outcome, each a SQL round trip) and N `chat.completion` jobs
   against the mock provider (the pipeline too), through one worker (4 threads). Jobs/s from
   the first submit to the last outcome, and the worker's CPU time per job; the mock-model
   figure as a ratio of the no-op one (same run).
2. Durability: two workers, 50 jobs of 400 ms each; one worker killed with SIGKILL once six
   jobs run: time until all 50 succeeded, against the same run with no kill.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from switchboard.config import Settings
from switchboard.jobs.engine import JobEngine
from switchboard.jobs.model import JobRequest
from switchboard.jobs.tables import jobs
from switchboard.testing.services import postgres_url

BROKERS = {"redis": "redis://127.0.0.1:6379/14", "amqp": "amqp://guest:guest@127.0.0.1:5672//"}
CATALOGUE = """\
models:
  - name: mock
    deployments: [{{provider: openai, model: m, name: mock-a, api_base: "{url}", api_key: k}}]
  - name: slow
    deployments: [{{provider: openai, model: m, name: slow-a, api_base: "{url}", api_key: k,
                    headers: {{x-mock-ttft-ms: "400", x-mock-tokens: "4"}}}}]
"""


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Setup:
    def __init__(self, tmp: Path, broker: str, mock_url: str) -> None:
        self.tmp = tmp
        self.config = tmp / "catalogue.yaml"
        self.config.write_text(CATALOGUE.format(url=mock_url))
        self.schema = f"bench_jobs_{uuid.uuid4().hex[:8]}"
        self.env = {
            "SWITCHBOARD_DATABASE_URL": postgres_url(),
            "SWITCHBOARD_DATABASE_SCHEMA": self.schema,
            "SWITCHBOARD_JOBS_ENABLED": "true",
            "SWITCHBOARD_JOBS_BROKER_URL": broker,
            "SWITCHBOARD_JOBS_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "SWITCHBOARD_JOBS_LEASE_S": "2",
            "SWITCHBOARD_JOBS_SWEEP_S": "0.5",
            "SWITCHBOARD_JOBS_VISIBILITY_TIMEOUT_S": "5",
            "SWITCHBOARD_PRELOAD_LOCAL_MODEL": "false",
        }
        self.workers: list[subprocess.Popen[bytes]] = []

    def settings(self) -> Settings:
        values = {k.removeprefix("SWITCHBOARD_").lower(): v for k, v in self.env.items()}
        return Settings(**values, config=self.config)  # type: ignore[arg-type]

    def worker(self, concurrency: int = 4) -> subprocess.Popen[bytes]:
        log = self.tmp / f"worker{len(self.workers)}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "worker", "--config", str(self.config),
             "--concurrency", str(concurrency), "--loglevel", "info"],
            env={**os.environ, **self.env}, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        while b" ready." not in log.read_bytes():
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()[-2000:])
            time.sleep(0.05)
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        self.workers = []


async def _count(engine: JobEngine, ids: list[str], status: str) -> int:
    stmt = select(func.count()).where(jobs.c.id.in_(ids), jobs.c.status == status)
    async with engine.store.engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def _run(engine: JobEngine, kind: str, n: int, payload: dict[str, Any],
               until: Any = None) -> tuple[float, list[str]]:  # fmt: skip
    start = time.perf_counter()
    ids = [(await engine.submit(JobRequest(kind=kind, owner="bench", payload=payload))).id
           for _ in range(n)]  # fmt: skip
    while (done := await _count(engine, ids, "succeeded")) < n:
        if until is not None:
            await until(ids)
        await asyncio.sleep(0.05)
    assert done == n
    return time.perf_counter() - start, ids


async def throughput(setup: Setup, n: int) -> dict[str, Any]:
    worker = setup.worker(4)
    engine = JobEngine.build(setup.settings())
    await engine.start()
    out: dict[str, Any] = {}
    try:
        chat = {"body": {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}}
        for name, kind, payload in (("noop", "switchboard.ping", {}),
                                    ("mock_model", "chat.completion", chat)):  # fmt: skip
            await _run(engine, kind, 20, payload)  # warm up (the worker's Gateway, pools)
            cpu0 = cpu_s(worker.pid)
            elapsed, _ = await _run(engine, kind, n, payload)
            out[name] = {
                "jobs_per_s": round(n / elapsed, 1),
                "worker_cpu_ms_per_job": round(1000 * (cpu_s(worker.pid) - cpu0) / n, 2),
            }
        out["mock_model_vs_noop"] = round(
            out["mock_model"]["jobs_per_s"] / out["noop"]["jobs_per_s"], 2)  # fmt: skip
    finally:
        await engine.aclose()
        setup.stop()
    return out


async def durability(setup: Setup, kill: bool) -> dict[str, Any]:
    victim = setup.worker(4)
    setup.worker(4)
    engine = JobEngine.build(setup.settings())
    await engine.start()
    killed: list[float] = []

    async def maybe_kill(ids: list[str]) -> None:
        if kill and not killed and await _count(engine, ids, "running") >= 6:
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(time.perf_counter())

    try:
        chat = {"body": {"model": "slow", "messages": [{"role": "user", "content": "x"}]}}
        elapsed, ids = await _run(engine, "chat.completion", 50, chat, maybe_kill)
        reruns = 0
        for job_id in ids:
            job = await engine.store.get(job_id)
            assert job is not None and job.status == "succeeded"
            reruns += job.attempts > 1
    finally:
        await engine.aclose()
        setup.stop()
    recovery = round(time.perf_counter() - killed[0], 2) if killed else None
    return {"all_50_s": round(elapsed, 2), "rerun_jobs": reruns, "kill_to_done_s": recovery}


async def drop_schema(schema: str) -> None:
    import asyncpg
    from sqlalchemy import make_url

    url = make_url(postgres_url()).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--broker", choices=("redis", "amqp", "both"), default="both")
    args = parser.parse_args()
    from bench.procs import free_port

    port = free_port()
    mock = subprocess.Popen([sys.executable, "-m", "switchboard.cli", "mock-provider",
                             "--port", str(port), "--tokens", "8"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    report: dict[str, Any] = {}
    try:
        time.sleep(1.0)
        kinds = ("redis", "amqp") if args.broker == "both" else (args.broker,)
        for kind in kinds:
            with tempfile.TemporaryDirectory() as tmp:
                results: dict[str, Any] = {}
                for name, coro in (("throughput", lambda s: throughput(s, args.jobs)),
                                   ("no_kill", lambda s: durability(s, False)),
                                   ("kill_one_worker", lambda s: durability(s, True))):  # fmt: skip
                    setup = Setup(Path(tmp), BROKERS[kind], f"http://127.0.0.1:{port}/v1")
                    try:
                        results[name] = asyncio.run(coro(setup))
                    finally:
                        asyncio.run(drop_schema(setup.schema))
                report[kind] = results
                print(kind, json.dumps(results), flush=True)
    finally:
        mock.kill()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
