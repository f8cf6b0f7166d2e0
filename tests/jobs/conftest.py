"""Real parts for the job tests: PostgreSQL (a schema per test), a broker (Redis db 14 or
RabbitMQ, a queue per test) and `switchboard worker` processes in front of the mock upstream."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from sqlalchemy import make_url

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import MockUpstream
from switchboard.testing.services import (
    accepts_connections,
    postgres_url,
    redis_url,
    require_or_skip,
)
from tests.conftest import SECRET

AMQP_URL = os.environ.get("SWITCHBOARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_DB = 14  # the job tests' own Redis database


def broker_url(kind: str) -> str:
    if kind == "amqp":
        return AMQP_URL
    base = make_url(redis_url())
    return f"redis://{base.host or '127.0.0.1'}:{base.port or 6379}/{REDIS_DB}"


def models(upstream: MockUpstream) -> list[dict[str, Any]]:
    """`mock` answers at once; `slow` takes 400 ms to its reply (jobs killed mid-flight)."""

    def model(name: str, headers: dict[str, str]) -> dict[str, Any]:
        return {"name": name, "deployments": [{
            "provider": "openai", "api_base": upstream.url, "api_key": SECRET,
            "model": "mock-upstream", "name": f"{name}-dep", "headers": headers,
            "price": {"input": 1.0, "output": 2.0}}]}  # fmt: skip

    return [model("mock", {}), model("slow", {"x-mock-ttft-ms": "400", "x-mock-tokens": "4"})]


class Distributed:
    """Settings shared by the API (in-process) and worker processes (through the env)."""

    def __init__(self, tmp_path: Path, upstream: MockUpstream, broker: str, schema: str) -> None:
        self.tmp_path = tmp_path
        self.config = tmp_path / "catalogue.yaml"
        self.config.write_text(yaml.safe_dump({"models": models(upstream)}))
        self.queue = f"sbt-{uuid.uuid4().hex[:10]}"
        self.env = {
            "SWITCHBOARD_DATABASE_URL": postgres_url(),
            "SWITCHBOARD_DATABASE_SCHEMA": schema,
            "SWITCHBOARD_JOBS_ENABLED": "true",
            "SWITCHBOARD_JOBS_BROKER_URL": broker,
            "SWITCHBOARD_JOBS_QUEUE": self.queue,
            "SWITCHBOARD_JOBS_LEASE_S": "2",
            "SWITCHBOARD_JOBS_SWEEP_S": "0.5",
            "SWITCHBOARD_JOBS_VISIBILITY_TIMEOUT_S": "5",
            "SWITCHBOARD_PRELOAD_LOCAL_MODEL": "false",
        }
        self.workers: list[subprocess.Popen[bytes]] = []

    def settings(self, **kw: Any) -> Settings:
        values: dict[str, Any] = {k.removeprefix("SWITCHBOARD_").lower(): v
                                  for k, v in self.env.items()}  # fmt: skip
        catalogue = Catalogue.model_validate(yaml.safe_load(self.config.read_text()))
        return Settings(**{**values, **kw}, catalogue=catalogue)

    def start_worker(self, concurrency: int = 4, **env: str) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"worker{len(self.workers)}.log"
        args = ["worker", "--config", str(self.config), "--concurrency", str(concurrency),
                "--loglevel", "info"]  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", *args],
            env={**os.environ, "HF_HUB_OFFLINE": "1", **self.env, **env},
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        return proc

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(10)


async def _drop_schema(schema: str) -> None:
    url = make_url(postgres_url()).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def _purge_broker(kind: str, url: str, queue: str) -> None:
    if kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        keys = [*client.scan_iter(f"{queue}*"), *client.scan_iter(f"_kombu.binding.{queue}")]
        keys += [b"unacked", b"unacked_index", b"unacked_mutex"]
        client.delete(*keys)
        client.close()
        return
    from kombu import Connection

    with Connection(url) as conn:
        channel = conn.default_channel
        channel.queue_delete(queue)


@pytest.fixture(params=["redis", "amqp"])
def distributed(
    request: pytest.FixtureRequest, tmp_path: Path, mock_upstream: MockUpstream
) -> Iterator[Distributed]:
    """PostgreSQL (own schema) + a real broker; the test starts the workers it needs."""
    kind = request.param
    url = broker_url(kind)
    if not accepts_connections(url):
        require_or_skip(f"{kind} broker not reachable at {url}")
    if not accepts_connections(postgres_url()):
        require_or_skip(f"PostgreSQL not reachable at {postgres_url()}")
    schema = f"t_jobs_{uuid.uuid4().hex[:10]}"
    setup = Distributed(tmp_path, mock_upstream, url, schema)
    try:
        yield setup
    finally:
        setup.stop()
        _purge_broker(kind, url, setup.queue)
        asyncio.run(_drop_schema(schema))
