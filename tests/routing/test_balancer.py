"""Load-balancing strategies order deployments as documented."""

from __future__ import annotations

import random
from collections import Counter

from switchboard.config import DeploymentConfig
from switchboard.routing.balancer import order_deployments
from switchboard.routing.breaker import BreakerPolicy
from switchboard.routing.health import HealthBoard
from switchboard.routing.retry import RetryPolicy


def board(*specs: dict[str, object]) -> HealthBoard:
    deps = [
        DeploymentConfig.model_validate({"provider": "openai", "model": "m", "name": f"d{i}", **s})
        for i, s in enumerate(specs)
    ]
    return HealthBoard(deps, BreakerPolicy())


def ids(items: list) -> list[str]:  # type: ignore[type-arg]
    return [h.deployment.id for h in items]


def test_weighted_follows_weights() -> None:
    b = board({"weight": 3}, {"weight": 1})
    rng = random.Random(1)
    firsts = Counter(ids(order_deployments(b.all(), "weighted", rng))[0] for _ in range(4000))
    assert 0.70 < firsts["d0"] / 4000 < 0.80


def test_priority_orders_by_priority() -> None:
    b = board({"priority": 2}, {"priority": 0}, {"priority": 1})
    assert ids(order_deployments(b.all(), "priority", random.Random(0))) == ["d1", "d2", "d0"]


def test_least_busy_prefers_fewest_in_flight() -> None:
    b = board({}, {}, {})
    b["d0"].started()
    b["d0"].started()
    b["d2"].started()
    assert ids(order_deployments(b.all(), "least_busy", random.Random(0)))[0] == "d1"
    b["d1"].started()
    b["d1"].started()
    b["d1"].started()
    assert ids(order_deployments(b.all(), "least_busy", random.Random(0)))[0] == "d2"


def test_latency_prefers_fastest_after_exploring() -> None:
    b = board({}, {})
    order = ids(order_deployments(b.all(), "latency", random.Random(0)))
    assert sorted(order) == ["d0", "d1"]
    b["d0"].started()
    b["d0"].finished(success=True, latency_s=0.5)
    assert ids(order_deployments(b.all(), "latency", random.Random(0)))[0] == "d1"  # unmeasured
    b["d1"].started()
    b["d1"].finished(success=True, latency_s=0.1)
    assert ids(order_deployments(b.all(), "latency", random.Random(0)))[0] == "d1"


def test_rpm_capacity() -> None:
    b = board({"rpm": 2})
    h = b["d0"]
    assert h.has_capacity()
    h.started()
    h.started()
    assert not h.has_capacity()


def test_retry_policy_delays() -> None:
    policy = RetryPolicy(rounds=2, backoff_s=0.1, backoff_max_s=0.3, retry_after_max_s=2)
    rng = random.Random(0)
    first = policy.delay(1, None, rng)
    assert first is not None and 0 <= first <= 0.1
    second = policy.delay(2, None, rng)
    assert second is not None and 0 <= second <= 0.2
    assert policy.delay(3, None, rng) is None  # out of rounds
    assert policy.delay(1, 1.5, rng) == 1.5  # Retry-After honoured
    assert policy.delay(1, 30, rng) is None  # too long to wait: give up now


def test_tpm_capacity_counts_reported_tokens() -> None:
    b = board({"tpm": 100})
    h = b["d0"]
    h.started()
    h.finished(success=True, latency_s=0.1, tokens=60)
    assert h.has_capacity()
    h.started()
    h.finished(success=True, latency_s=0.1, tokens=60)
    assert not h.has_capacity()
