"""Invalidation through the admin API (by tenant, model, entry, all) and `switchboard cache`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

MASTER = "mk-cache-admin-master-0123456789"
ADMIN = {"authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def gw(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    db: Path = tmp_path_factory.mktemp("cache-admin") / "keys.db"
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    models = [
        {"name": "m1", "deployments": [{**dep, "name": "m1-dep"}]},
        {"name": "m2", "deployments": [{**dep, "name": "m2-dep"}]},
    ]
    catalogue = Catalogue.model_validate({"models": models, "cache": {"ttl_s": 600}})
    settings = Settings(catalogue=catalogue, master_key=MASTER, database_url=f"sqlite:///{db}")
    with run_gateway(background, settings) as server:
        yield server


def key_for(gw: GatewayServer, tenant: str) -> str:
    body = {"name": "admin-test", "tenant": tenant}
    resp = httpx.post(gw.base + "/admin/keys", json=body, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])


def ask(gw: GatewayServer, key: str, text: str, model: str = "m1") -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    resp = httpx.post(
        gw.url + "/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
    )
    assert resp.status_code == 200, resp.text
    return resp


def outcome(gw: GatewayServer, key: str, text: str, model: str = "m1") -> str:
    return ask(gw, key, text, model).headers["x-switchboard-cache"]


def warm(gw: GatewayServer, background: BackgroundLoop, pairs: list[tuple[str, str, str]]) -> None:
    for key, text, model in pairs:
        ask(gw, key, text, model)
    background.run(gw.gateway.cache.drain())


def test_clear_by_tenant_model_and_entry(gw: GatewayServer, background: BackgroundLoop) -> None:
    t1, t2 = f"one-{uuid.uuid4().hex[:6]}", f"two-{uuid.uuid4().hex[:6]}"
    a, b = key_for(gw, t1), key_for(gw, t2)
    q = f"question {uuid.uuid4().hex}"
    warm(gw, background, [(a, q, "m1"), (b, q, "m1"), (a, q, "m2")])
    resp = httpx.delete(gw.base + "/admin/cache", params={"tenant": t1, "model": "m1"},
                        headers=ADMIN)  # fmt: skip
    assert resp.status_code == 200 and resp.json() == {"object": "cache.cleared", "deleted": 1}
    assert outcome(gw, b, q) == "hit-exact"
    assert outcome(gw, a, q, "m2") == "hit-exact"
    assert outcome(gw, a, q) == "miss"  # and stored again
    background.run(gw.gateway.cache.drain())

    hit = ask(gw, a, q)
    entry = hit.headers["x-switchboard-cache-key"]
    resp = httpx.delete(gw.base + f"/admin/cache/entries/{entry}",
                        params={"tenant": t1, "model": "m1"}, headers=ADMIN)  # fmt: skip
    assert resp.json()["deleted"] == 1
    assert outcome(gw, a, q) == "miss"
    background.run(gw.gateway.cache.drain())

    resp = httpx.delete(gw.base + "/admin/cache", params={"tenant": t1}, headers=ADMIN)
    assert resp.json()["deleted"] == 2  # m1 and m2
    assert outcome(gw, b, q) == "hit-exact"
    resp = httpx.delete(gw.base + "/admin/cache", params={"model": "m1"}, headers=ADMIN)
    assert resp.json()["deleted"] >= 1
    assert outcome(gw, b, q) == "miss"


def test_stats_and_refusals(gw: GatewayServer, background: BackgroundLoop) -> None:
    key = key_for(gw, "stats")
    warm(gw, background, [(key, f"stats {uuid.uuid4().hex}", "m1")])
    stats = httpx.get(gw.base + "/admin/cache", headers=ADMIN).json()
    assert stats["object"] == "cache.stats" and stats["store"] == "memory"
    assert stats["entries"] >= 1 and stats["semantic"] is False and stats["vectors"] is None
    assert {m["model"] for m in stats["models"]} == {"m1", "m2"}
    assert httpx.get(gw.base + "/admin/cache").status_code == 401
    assert httpx.delete(gw.base + "/admin/cache", headers=ADMIN).status_code == 400
    bad = httpx.delete(gw.base + "/admin/cache/entries/not-a-key!", params={"model": "m1"},
                       headers=ADMIN)  # fmt: skip
    assert bad.status_code == 400


def _cli(gw: GatewayServer, *args: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "SWITCHBOARD_MASTER_KEY": MASTER}
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "cache", *args, "--url", gw.base],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout or "{}")


def test_cli_stats_and_clear_all(gw: GatewayServer, background: BackgroundLoop) -> None:
    key = key_for(gw, "cli")
    q = f"cli {uuid.uuid4().hex}"
    warm(gw, background, [(key, q, "m1")])
    code, stats = _cli(gw, "stats")
    assert code == 0 and stats["entries"] >= 1
    code, cleared = _cli(gw, "clear", "--all")
    assert code == 0 and cleared["deleted"] == stats["entries"]
    assert outcome(gw, key, q) == "miss"
