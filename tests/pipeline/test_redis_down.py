"""When Redis dies the gateway keeps serving (open policy) or refuses with 503 (closed),
counts the failures in a metric, and uses Redis again once it is back."""

from __future__ import annotations

import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    free_port,
    run_gateway,
    wait_for,
)
from switchboard.testing.services import require_or_skip

MASTER = "mk-redis-down-0123456789"


@pytest.fixture(scope="module", autouse=True)
def redis_server_binary() -> None:
    """These tests start, kill and restart a Redis of their own."""
    if shutil.which("redis-server") is None:
        require_or_skip("needs the redis-server binary on PATH")


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
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def keys(self, prefix: str) -> list[bytes]:
        """Keys the gateway wrote under its prefix; this Redis keeps nothing across restarts.
        The dashboard's live seconds (published every 0.5 s, `<prefix>live:`) are left out."""
        with redis.Redis(port=self.port, socket_timeout=2) as client:
            found = client.scan_iter(match=f"{prefix}*", count=1000)
            return [k for k in found if not k.startswith(f"{prefix}live:".encode())]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


@dataclass
class Outage:
    gateway: GatewayServer
    redis: OwnRedis
    key: str
    policy: str
    prefix: str


@pytest.fixture(params=["open", "closed"])
def setup(
    request: pytest.FixtureRequest,
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path: Path,
) -> Iterator[Outage]:
    redis_server = OwnRedis(free_port())
    redis_server.start()
    prefix = f"sbtest:{uuid.uuid4().hex}:"
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    settings = Settings(
        catalogue=Catalogue.model_validate({"models": [{"name": "mock", "deployments": [dep]}]}),
        master_key=MASTER,
        database_url=f"sqlite:///{tmp_path / 'keys.db'}",
        redis_url=f"redis://127.0.0.1:{redis_server.port}/0",
        redis_prefix=prefix,
        redis_down_policy=request.param,
    )
    try:
        with run_gateway(background, settings) as gw:
            created = httpx.post(
                gw.base + "/admin/keys",
                json={"name": "k", "tenant": "t", "rpm": 1000},
                headers={"authorization": f"Bearer {MASTER}"},
            )
            yield Outage(gw, redis_server, created.json()["key"], request.param, prefix)
    finally:
        redis_server.stop()


def chat(gw: GatewayServer, key: str) -> httpx.Response:
    return httpx.post(
        gw.url + "/chat/completions",
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_redis_outage_policy(setup: Outage) -> None:
    gw, redis_server, key = setup.gateway, setup.redis, setup.key
    assert chat(gw, key).status_code == 200
    assert redis_server.keys(setup.prefix)  # the limits live in Redis
    redis_server.stop()
    during = chat(gw, key)
    metrics = httpx.get(gw.base + "/metrics").text
    assert 'switchboard_limits_store_errors_total{kind="rate_limit"}' in metrics
    if setup.policy == "open":
        assert during.status_code == 200  # served, limited in-process meanwhile
        assert httpx.get(gw.base + "/ready").json()["stores"]["redis"] is False
    else:
        assert during.status_code == 503
        assert during.json()["error"]["type"] == "server_error"
        assert httpx.get(gw.base + "/ready").status_code == 503
    redis_server.start()  # empty: anything under the prefix now was written after the outage

    def limits_back_in_redis() -> bool:
        return chat(gw, key).status_code == 200 and bool(redis_server.keys(setup.prefix))

    # Polls through the outage back-off (1 s) until a request is counted in Redis again.
    assert wait_for(limits_back_in_redis, timeout=10)
    assert httpx.get(gw.base + "/ready").json()["stores"]["redis"] is True
