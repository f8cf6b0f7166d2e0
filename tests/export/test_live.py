"""Live figures from Prometheus metrics: the quantiles match histogram_quantile, and the
in-process registry and a scraped /metrics page give the same figures."""

from __future__ import annotations

import pytest

from switchboard.export import from_families, from_metrics_text
from switchboard.export.live import quantile
from tests.export.conftest import measured_metrics


def test_quantile_interpolates_within_buckets() -> None:
    buckets = [(0.25, 1.0), (0.5, 3.0), (1.0, 3.0), (2.5, 4.0), (float("inf"), 4.0)]
    assert quantile(0.5, buckets) == pytest.approx(0.375)
    assert quantile(0.95, buckets) == pytest.approx(1.0 + 1.5 * 0.8)
    assert quantile(0.5, []) is None
    assert quantile(0.99, [(1.0, 0.0), (float("inf"), 0.0)]) is None
    assert quantile(0.99, [(1.0, 1.0), (float("inf"), 10.0)]) == 1.0  # beyond the last bound


def test_figures_from_the_registry_and_from_the_page_agree() -> None:
    metrics = measured_metrics()
    direct = from_families(metrics.registry.collect())
    scraped = from_metrics_text(metrics.render().decode())
    assert direct == scraped
    chat = direct.models["chat"]
    assert (chat.requests, chat.errors) == (5, 1)
    assert chat.latency[0] == pytest.approx(0.375)
    assert chat.ttft[0] == pytest.approx(0.075)
    assert chat.cost_usd == pytest.approx(0.0123)
    assert direct.circuits == {
        "gpt-east": "closed",
        "gpt-west": "open",
        "claude-haiku": "half_open",
    }
