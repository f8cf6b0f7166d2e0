"""An architecture with every feature the document shows: fallbacks, a complexity router,
tenants, Redis and PostgreSQL with passwords (which must not leak), and measured figures."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.export import Architecture, from_config, from_families
from switchboard.observability.metrics import Metrics

DEPLOYMENTS = ["gpt-east", "gpt-west", "claude-haiku"]
PASSWORDS = ["redis-pass-9f8e", "pg-pass-7a6b"]

CATALOGUE = {
    "default_model": "chat",
    "tenants": {"acme": {"rpm": 600, "tpm": 100_000}},
    "models": [
        {
            "name": "chat",
            "fallbacks": ["backup"],
            "strategy": "latency",
            "deployments": [
                {
                    "provider": "openai",
                    "name": "gpt-east",
                    "model": "gpt-4o-mini",
                    "api_base": "https://east.example/v1",
                    "api_key": "k",
                    "rpm": 500,
                    "price": {"input": 0.15, "output": 0.6},
                },
                {
                    "provider": "azure",
                    "name": "gpt-west",
                    "model": "gpt-4o-mini",
                    "api_base": "https://west.example",
                    "api_key": "k",
                    "price": {"input": 0.15, "output": 0.6},
                },
            ],
        },
        {
            "name": "backup",
            "deployments": [
                {
                    "provider": "anthropic",
                    "name": "claude-haiku",
                    "model": "claude-3-5-haiku",
                    "api_key": "k",
                    "price": {"input": 0.8, "output": 4.0},
                },
            ],
        },
        {"name": "auto", "router": {"simple": "backup", "moderate": "chat", "complex": "chat"}},
    ],
}


def measured_metrics() -> Metrics:
    """chat: 4 requests at 0.2, 0.3, 0.5 and 1.2 s (p50 375 ms, p95 2200 ms); one 502."""
    metrics = Metrics()
    metrics.watch_circuits(
        lambda: {"gpt-east": "closed", "gpt-west": "open", "claude-haiku": "half_open"}
    )
    for seconds in (0.2, 0.3, 0.5, 1.2):
        metrics.duration.labels("chat", "chat").observe(seconds)
        metrics.requests.labels("chat", "chat", "200").inc()
    metrics.requests.labels("chat", "chat", "502").inc()
    metrics.ttft.labels("chat").observe(0.08)
    metrics.cost.labels("chat").inc(0.0123)
    return metrics


@pytest.fixture(scope="session")
def architecture() -> Architecture:
    settings = Settings(
        redis_url=f"redis://:{PASSWORDS[0]}@redis:6379/0",
        database_url=f"postgresql://sb:{PASSWORDS[1]}@postgres:5432/sb",
        master_key=SecretStr("sk-master-not-in-documents"),
    )
    live = from_families(measured_metrics().registry.collect(), {"redis": True, "database": True})
    return from_config(settings, Catalogue.model_validate(CATALOGUE), live)
