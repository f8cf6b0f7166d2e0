"""When Redis dies the gateway keeps serving (open policy) or refuses with 503 (closed),
counts the failures in a metric, and uses Redis again once it is back."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from switchboard.config import Catalogue, Settings
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    free_port,
    run_gateway,
    wait_for,
)

MASTER = "mk-redis-down-0123456789"
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class OwnRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(self._up, timeout=10)

    def _up(self) -> bool:
        import socket

        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture(params=["open", "closed"])
def setup(
    request: pytest.FixtureRequest,
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path: Path,
) -> Iterator[tuple[GatewayServer, OwnRedis, str, str]]:
    redis = OwnRedis(free_port())
    redis.start()
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": [{"name": "mock", "deployments": [dep]}]}),
        master_key=MASTER,
        database_url=f"sqlite:///{tmp_path / 'keys.db'}",
        redis_url=f"redis://127.0.0.1:{redis.port}/0",
        redis_prefix=f"sbtest:{uuid.uuid4().hex}:",
        redis_down_policy=request.param,
    )
    try:
        with run_gateway(background, settings) as gw:
            created = httpx.post(
                gw.base + "/admin/keys",
                json={"name": "k", "tenant": "t", "rpm": 1000},
                headers={"authorization": f"Bearer {MASTER}"},
            )
            yield gw, redis, created.json()["key"], request.param
    finally:
        redis.stop()


def chat(gw: GatewayServer, key: str) -> httpx.Response:
    return httpx.post(
        gw.url + "/chat/completions",
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_redis_outage_policy(setup: tuple[GatewayServer, OwnRedis, str, str]) -> None:
    gw, redis, key, policy = setup
    assert chat(gw, key).status_code == 200
    redis.stop()
    during = chat(gw, key)
    metrics = httpx.get(gw.base + "/metrics").text
    assert 'switchboard_limits_store_errors_total{kind="rate_limit"}' in metrics
    if policy == "open":
        assert during.status_code == 200  # served, limited in-process meanwhile
        assert httpx.get(gw.base + "/ready").json()["stores"]["redis"] is False
    else:
        assert during.status_code == 503
        assert during.json()["error"]["type"] == "server_error"
        assert httpx.get(gw.base + "/ready").status_code == 503
    redis.start()
    time.sleep(1.2)  # the outage back-off
    assert wait_for(lambda: chat(gw, key).status_code == 200, timeout=5)
    assert httpx.get(gw.base + "/ready").json()["stores"]["redis"] is True
