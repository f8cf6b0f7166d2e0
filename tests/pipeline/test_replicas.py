"""Three gateway processes sharing Redis and PostgreSQL enforce one limit, not three.

Fires 300 concurrent requests spread over the replicas at a key with a 60 RPM limit (then a
TPM limit, then a budget) and checks the admitted count. Records the overshoot it measured.
The same holds while Redis stalls (`DEBUG SLEEP`, a Redis of the test's own): a slow reply is
waited for, not taken for an outage that would make each replica limit on its own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from switchboard.testing.harness import MockUpstream, free_port, wait_for
from switchboard.testing.processes import RedisProcess
from switchboard.testing.services import (
    accepts_connections,
    postgres_url,
    redis_url,
    require_or_skip,
)

PG = postgres_url()
REDIS = redis_url()
MASTER = "mk-replicas-0123456789"
REPLICAS = 3
STALL_S = 0.5  # twice the old 0.25 s socket timeout that turned a slow Redis into an outage


@pytest.fixture(scope="module", autouse=True)
def services() -> None:
    """Skips the module without PostgreSQL and Redis, or fails it when CI requires them."""
    missing = [url for url in (PG, REDIS) if not accepts_connections(url)]
    if missing:
        require_or_skip(f"needs PostgreSQL and Redis; nothing answers at {', '.join(missing)}")


@pytest.fixture(scope="module")
def replicas(
    mock_upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    with running_replicas(mock_upstream, tmp_path_factory.mktemp("replicas"), REDIS) as bases:
        yield bases


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        require_or_skip("redis-server is not installed")
    server = RedisProcess()
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def slow_replicas(
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
    own_redis: RedisProcess,
) -> Iterator[list[str]]:
    tmp = tmp_path_factory.mktemp("slow-replicas")
    with running_replicas(mock_upstream, tmp, own_redis.url) as bases:
        yield bases


@contextmanager
def running_replicas(
    mock_upstream: MockUpstream, tmp: Path, redis: str, workers: int = 1
) -> Iterator[list[str]]:
    """REPLICAS `switchboard serve` processes, each with `workers` worker processes."""
    config = tmp / "catalogue.yaml"
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    config.write_text(
        yaml.safe_dump(
            {
                "models": [
                    {
                        "name": "mock",
                        "deployments": [{**dep, "price": {"input": 0, "output": 1000}}],
                    }
                ]
            }
        )
    )
    schema = f"sbrep_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "SWITCHBOARD_CONFIG": str(config),
        "SWITCHBOARD_DATABASE_URL": PG,
        "SWITCHBOARD_DATABASE_SCHEMA": schema,
        "SWITCHBOARD_REDIS_URL": redis,
        "SWITCHBOARD_REDIS_PREFIX": f"sbrep:{uuid.uuid4().hex}:",
        "SWITCHBOARD_MASTER_KEY": MASTER,
        "SWITCHBOARD_LOG_LEVEL": "warning",
    }
    ports = [free_port() for _ in range(REPLICAS)]
    serve = [sys.executable, "-m", "switchboard.cli", "serve", "--workers", str(workers)]
    procs = [
        subprocess.Popen(
            [*serve, "--port", str(p)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / f"replica-{p}.log").open("w"),
        )
        for p in ports
    ]
    try:
        for p in ports:
            assert wait_for(lambda p=p: _ready(p), timeout=60), (
                tmp / f"replica-{p}.log"
            ).read_text()
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        _drop_schema(schema)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _drop_schema(schema: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(PG)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


def create_key(base: str, **spec: Any) -> str:
    resp = httpx.post(
        base + "/admin/keys",
        json={"name": "replicas", "tenant": "t", **spec},
        headers={"authorization": f"Bearer {MASTER}"},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])


@contextmanager
def stalling(redis: str, stall_s: float = STALL_S) -> Iterator[None]:
    """Redis sleeps `stall_s` at a time while the block runs, and answers in between."""
    done = threading.Event()

    def stall() -> None:
        with redis_admin(redis) as admin:
            while not done.is_set():
                admin.execute_command("DEBUG", "SLEEP", str(stall_s))
                time.sleep(stall_s)

    worker = threading.Thread(target=stall)
    worker.start()
    time.sleep(0.05)  # asleep when the burst arrives
    try:
        yield
    finally:
        done.set()
        worker.join()


def redis_admin(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=10)  # waits out its own DEBUG SLEEP


def fire(bases: list[str], key: str, n: int = 300, max_tokens: int = 4) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=300)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            body = {
                "model": "mock",
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": max_tokens,
            }
            headers = {"authorization": f"Bearer {key}"}
            return await asyncio.gather(
                *(
                    http.post(
                        bases[i % len(bases)] + "/v1/chat/completions", json=body, headers=headers
                    )
                    for i in range(n)
                )
            )

    return asyncio.run(run())


def test_rpm_is_shared_across_replicas(replicas: list[str]) -> None:
    key = create_key(replicas[0], rpm=60)
    responses = fire(replicas, key)
    statuses = Counter(r.status_code for r in responses)
    assert 60 <= statuses[200] <= 61, statuses
    assert statuses[200] + statuses[429] == 300
    assert all(r.headers.get("retry-after") for r in responses if r.status_code == 429)
    # each replica got 100 requests: per-replica limits would have admitted up to 180
    assert Counter(r.url.port for r in responses) == {
        int(b.rsplit(":", 1)[1]): 100 for b in replicas
    }
    print(f"\nRPM 60 over {REPLICAS} replicas, 300 requests: admitted {statuses[200]}")


def test_tpm_is_shared_across_replicas(replicas: list[str]) -> None:
    key = create_key(replicas[1], tpm=400)
    responses = fire(replicas, key, max_tokens=4)
    ok = [r for r in responses if r.status_code == 200]
    used = sum(r.json()["usage"]["total_tokens"] for r in ok)
    assert ok and len(ok) < 300
    assert used <= 400, used  # tokens actually consumed never exceed the minute's limit
    assert all(r.status_code in (200, 429) for r in responses)
    print(f"\nTPM 400 over {REPLICAS} replicas: admitted {len(ok)} requests using {used} tokens")


def test_budget_is_shared_across_replicas(replicas: list[str]) -> None:
    # each reply costs 4 tokens x $1000/1M = $0.004; $0.1 buys exactly 25
    key = create_key(replicas[2], budget_usd=0.1)
    responses = fire(replicas, key, max_tokens=4)
    statuses = Counter(r.status_code for r in responses)
    assert statuses[200] == 25, statuses
    assert statuses[402] == 275
    usage = httpx.get(replicas[0] + "/v1/usage", headers={"authorization": f"Bearer {key}"})
    print(f"\nbudget $0.10 over {REPLICAS} replicas: admitted {statuses[200]}")
    assert usage.status_code == 200


def test_limits_stay_shared_while_redis_stalls(
    slow_replicas: list[str], own_redis: RedisProcess
) -> None:
    rpm_key = create_key(slow_replicas[0], rpm=60)
    budget_key = create_key(slow_replicas[1], budget_usd=0.1)  # 25 replies of $0.004
    with stalling(own_redis.url):
        by_rpm = Counter(r.status_code for r in fire(slow_replicas, rpm_key))
    with stalling(own_redis.url):
        by_budget = Counter(r.status_code for r in fire(slow_replicas, budget_key))
    print(f"\nRedis stalling {STALL_S} s at a time, {REPLICAS} replicas, 300 requests each:")
    print(f"RPM 60: admitted {by_rpm[200]}; budget of 25 requests: admitted {by_budget[200]}")
    assert by_rpm == {200: 60, 429: 240}, by_rpm
    assert by_budget == {200: 25, 402: 275}, by_budget  # overshoot 0 (at most 1 allowed)


def test_conversation_continues_on_another_replica(
    replicas: list[str], mock_upstream: MockUpstream
) -> None:
    key = create_key(replicas[0])
    headers = {"authorization": f"Bearer {key}"}
    first = httpx.post(
        replicas[0] + "/v1/chat", json={"message": "My name is Ada."}, headers=headers
    )
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    second = httpx.post(
        replicas[2] + "/v1/chat",
        json={"message": "What is my name?", "conversation_id": conversation},
        headers=headers,
    )
    assert second.status_code == 200
    sent = mock_upstream.last_request()["body"]["messages"]
    assert sent[0]["content"] == "My name is Ada."  # history came from Redis
    assert len(sent) == 3
