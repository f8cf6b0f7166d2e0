"""Client libraries against Switchboard in front of the fidelity upstream, and against the
upstream directly: what a library shows through the gateway must equal what it shows without
it. One upstream and one gateway per test module."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway
from tests.clients.upstream import ClientsUpstream

# no network: litellm reads its bundled cost map instead of fetching one at import
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL = "gpt-4o"  # a name every library knows; the catalogue and the upstream use it too


@pytest.fixture(scope="module")
def upstream(background: BackgroundLoop) -> Iterator[ClientsUpstream]:
    up = ClientsUpstream()
    background.run(up.start())
    yield up
    background.run(up.stop())


@pytest.fixture(scope="module")
def gw(background: BackgroundLoop, upstream: ClientsUpstream) -> Iterator[GatewayServer]:
    dep = {"provider": "openai", "model": MODEL, "api_base": upstream.url, "api_key": "sk-up"}
    catalogue = Catalogue.model_validate({"models": [{"name": MODEL, "deployments": [dep]}]})
    with run_gateway(background, Settings(catalogue=catalogue)) as server:
        yield server


@pytest.fixture(scope="module")
def urls(upstream: ClientsUpstream, gw: GatewayServer) -> tuple[str, str]:
    """The base URL of the upstream itself, and of the gateway in front of it."""
    return upstream.url, gw.url
