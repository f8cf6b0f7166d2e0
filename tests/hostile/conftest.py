"""The hostile suite: a real `switchboard serve` process with a master key, a Redis of its own
and the mock upstream as a process, probed the way an attacker with (or without) a key would.

Fixtures:
- `upstream` (tests/conftest.py): the mock provider process (session).
- `redis_server`: a redis-server of the suite's own (session; a test may restart it).
- `launch(env=..., models=...)`: start a gateway process with extra SWITCHBOARD_* settings and
  extra catalogue models; stopped after the test. Returns a `Gateway` with `url`, `admin(...)`
  and `new_key(...)`.
- `hostile_gateway`: one shared gateway (session) with Redis and the master key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from switchboard.testing.processes import (
    RedisProcess,
    ServiceProcess,
    gateway_process,
    wait_healthy,
)

MASTER = "sk-master-hostile-0123456789"


@dataclass
class Gateway:
    process: ServiceProcess
    redis_url: str | None

    @property
    def url(self) -> str:
        return self.process.base_url

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {MASTER}", **kw.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kw)

    def new_key(self, **fields: Any) -> str:
        """Create an API key through the admin API; returns the plaintext key."""
        body = {"name": "hostile", "tenant": "acme", **fields}
        resp = self.admin("POST", "/admin/keys", json=body)
        assert resp.status_code == 201, resp.text
        return str(resp.json()["key"])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    server.kill()


def write_catalogue(path: Path, upstream: ServiceProcess, models: list[dict[str, Any]]) -> Path:
    base = {"provider": "openai", "api_base": f"{upstream.base_url}/v1", "api_key": "sk-upstream"}
    catalogue = {
        "default_model": "mock",
        "models": [
            {
                "name": "mock",
                "deployments": [
                    {**base, "name": "mock-a", "model": "m", "price": {"input": 1, "output": 2}}
                ],
            },
            {
                "name": "mock-slow",
                "deployments": [
                    {
                        **base,
                        "name": "mock-slow-a",
                        "model": "m",
                        "headers": {"x-mock-itl-ms": "50", "x-mock-tokens": "400"},
                        "price": {"input": 1, "output": 2},
                    }
                ],
            },
            *models,
        ],
    }
    path.write_text(yaml.safe_dump(catalogue))
    return path


Launch = Callable[..., Gateway]


def _start(
    tmp: Path,
    upstream: ServiceProcess,
    redis_url: str | None,
    env: dict[str, str] | None,
    models: list[dict[str, Any]] | None,
) -> Gateway:
    config = write_catalogue(tmp / "catalogue.yaml", upstream, models or [])
    settings = {
        "SWITCHBOARD_MASTER_KEY": MASTER,
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp / 'keys.db'}",
        "SWITCHBOARD_LOG_LEVEL": "info",
        **({"SWITCHBOARD_REDIS_URL": redis_url} if redis_url else {}),
        **(env or {}),
    }
    proc = gateway_process(config, settings, log=tmp / "gateway.log")
    proc.start()
    wait_healthy(proc.base_url)
    return Gateway(proc, redis_url)


@pytest.fixture
def launch(
    tmp_path: Path, upstream: ServiceProcess, redis_server: RedisProcess
) -> Iterator[Launch]:
    started: list[Gateway] = []

    def start(
        env: dict[str, str] | None = None,
        models: list[dict[str, Any]] | None = None,
        redis: bool = True,
    ) -> Gateway:
        folder = tmp_path / f"gw{len(started)}"
        folder.mkdir()
        gw = _start(folder, upstream, redis_server.url if redis else None, env, models)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.process.stop()


@pytest.fixture(scope="session")
def hostile_gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: ServiceProcess, redis_server: RedisProcess
) -> Iterator[Gateway]:
    gw = _start(tmp_path_factory.mktemp("hostile"), upstream, redis_server.url, None, None)
    yield gw
    gw.process.stop()


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    with open(f"/proc/{pid}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")
