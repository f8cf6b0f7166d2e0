"""Fixtures for the observability tests: /metrics samples and the request log's lines."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from switchboard.testing.harness import GatewayServer

Sample = tuple[str, frozenset[tuple[str, str]]]
Samples = Callable[[GatewayServer], dict[Sample, float]]
Lines = Callable[[str], list[dict[str, object]]]


def sample(name: str, **labels: str) -> Sample:
    return name, frozenset(labels.items())


@pytest.fixture
def metrics() -> Samples:
    """Every sample on a gateway's /metrics, keyed by (name, labels)."""

    def read(gateway: GatewayServer) -> dict[Sample, float]:
        text = httpx.get(gateway.base + "/metrics").text
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    return read


@pytest.fixture
def request_lines(caplog: pytest.LogCaptureFixture) -> Lines:
    """The fields of every request-log line of one request id."""
    caplog.set_level(logging.INFO)

    def lines(request_id: str) -> list[dict[str, object]]:
        found = []
        for record in caplog.records:
            fields = getattr(record, "fields", {})
            if record.name == "switchboard.request" and fields.get("request_id") == request_id:
                found.append(fields)
        return found

    return lines
