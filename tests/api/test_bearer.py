"""One bearer parser for every guarded route: the scheme is case-insensitive everywhere (RFC
7235), for API keys, the admin API and /metrics alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from switchboard.config import Settings
from switchboard.pipeline.auth import bearer_token, credential_from_headers
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

MASTER = "sk-master-bearer-0123456789"
METRICS = "metrics-token-0123456789"


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("BEARER abc") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None
    assert credential_from_headers(None, " sk-x ") == "sk-x"


@pytest.fixture(scope="module")
def guarded(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    folder: Path = tmp_path_factory.mktemp("bearer")
    settings = Settings(
        catalogue=None,
        config=None,
        master_key=MASTER,
        metrics_token=METRICS,
        database_url=f"sqlite:///{folder / 'keys.db'}",
        preload_local_model=False,
    )
    with run_gateway(background, settings) as server:
        yield server


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_every_guarded_route_takes_any_case(guarded: GatewayServer, scheme: str) -> None:
    metrics = httpx.get(f"{guarded.base}/metrics", headers={"Authorization": f"{scheme} {METRICS}"})
    assert metrics.status_code == 200
    admin = httpx.get(f"{guarded.base}/admin/keys", headers={"Authorization": f"{scheme} {MASTER}"})
    assert admin.status_code == 200
    key = httpx.post(
        f"{guarded.base}/admin/keys",
        json={"name": "n", "tenant": "t"},
        headers={"Authorization": f"Bearer {MASTER}"},
    ).json()["key"]
    usage = httpx.get(f"{guarded.url}/usage", headers={"Authorization": f"{scheme} {key}"})
    assert usage.status_code == 200
