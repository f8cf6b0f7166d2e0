"""`serve --workers 2` on each of three replicas: six processes, limits still exact.

The same burst as tests/pipeline/test_replicas.py (300 concurrent requests over the replicas,
which the kernel spreads over each replica's two workers) against a 60 RPM key and a budget
that buys 25 replies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from switchboard.testing.harness import MockUpstream

from .test_replicas import REDIS, create_key, fire, running_replicas, services

__all__ = ["services"]  # the module fixture that skips (or fails in CI) without the services


@pytest.fixture(scope="module")
def two_worker_replicas(
    mock_upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    tmp = tmp_path_factory.mktemp("replica-workers")
    with running_replicas(mock_upstream, tmp, REDIS, workers=2) as bases:
        yield bases


def test_rpm_is_exact_over_replicas_of_two_workers(two_worker_replicas: list[str]) -> None:
    key = create_key(two_worker_replicas[0], rpm=60)
    statuses = Counter(r.status_code for r in fire(two_worker_replicas, key))
    assert 60 <= statuses[200] <= 61, statuses
    assert statuses[200] + statuses[429] == 300


def test_budget_is_exact_over_replicas_of_two_workers(two_worker_replicas: list[str]) -> None:
    key = create_key(two_worker_replicas[1], budget_usd=0.1)  # $0.004 a reply: 25 fit
    statuses = Counter(r.status_code for r in fire(two_worker_replicas, key, max_tokens=4))
    assert statuses[200] == 25, statuses
    assert statuses[402] == 275
