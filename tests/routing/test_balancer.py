"""Load-balancing strategies order deployments as documented."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable

from switchboard.catalogue import DeploymentConfig
from switchboard.routing.balancer import order_deployments
from switchboard.routing.breaker import BreakerPolicy
from switchboard.routing.health import HealthBoard
from switchboard.routing.retry import RetryPolicy

SEEDS = range(50)


def board(*specs: dict[str, object], clock: Callable[[], float] = time.monotonic) -> HealthBoard:
    deps = [
        DeploymentConfig.model_validate({"provider": "openai", "model": "m", "name": f"d{i}", **s})
        for i, s in enumerate(specs)
    ]
    return HealthBoard(deps, BreakerPolicy(), clock)


def ids(items: list) -> list[str]:  # type: ignore[type-arg]
    return [h.deployment.id for h in items]


def orders(b: HealthBoard, strategy: str) -> set[tuple[str, ...]]:
    """Every order the strategy picks over many seeds: one when the order is decided."""
    return {tuple(ids(order_deployments(b.all(), strategy, random.Random(s)))) for s in SEEDS}


def test_weighted_follows_weights() -> None:
    b = board({"weight": 3}, {"weight": 1})
    rng = random.Random(1)
    firsts = Counter(ids(order_deployments(b.all(), "weighted", rng))[0] for _ in range(4000))
    assert 0.70 < firsts["d0"] / 4000 < 0.80


def test_priority_orders_by_priority() -> None:
    b = board({"priority": 2}, {"priority": 0}, {"priority": 1})
    assert orders(b, "priority") == {("d1", "d2", "d0")}


def test_priority_shuffles_equals() -> None:
    b = board({"priority": 1}, {"priority": 0}, {"priority": 1})
    assert orders(b, "priority") == {("d1", "d0", "d2"), ("d1", "d2", "d0")}


def test_least_busy_prefers_fewest_in_flight() -> None:
    b = board({}, {}, {})
    b["d0"].started()
    b["d0"].started()
    b["d2"].started()
    assert orders(b, "least_busy") == {("d1", "d2", "d0")}
    b["d1"].started()
    b["d1"].started()
    b["d1"].started()
    assert orders(b, "least_busy") == {("d2", "d0", "d1")}


def test_least_busy_weighs_in_flight_by_weight() -> None:
    b = board({"weight": 4}, {})
    for _ in range(3):
        b["d0"].started()
    b["d1"].started()
    assert orders(b, "least_busy") == {("d0", "d1")}  # 3/4 busy against 1/1


def test_latency_prefers_fastest_after_exploring() -> None:
    b = board({}, {})
    assert orders(b, "latency") == {("d0", "d1"), ("d1", "d0")}  # unmeasured: random
    b["d0"].started()
    b["d0"].finished(success=True, latency_s=0.5)
    assert orders(b, "latency") == {("d1", "d0")}  # the unmeasured one gets measured first
    b["d1"].started()
    b["d1"].finished(success=True, latency_s=0.1)
    assert orders(b, "latency") == {("d1", "d0")}
    for _ in range(20):  # d1 slows down; its moving average overtakes d0's
        b["d1"].started()
        b["d1"].finished(success=True, latency_s=2.0)
    assert orders(b, "latency") == {("d0", "d1")}


def test_retry_policy_delays() -> None:
    policy = RetryPolicy(rounds=2, backoff_s=0.1, backoff_max_s=0.3, retry_after_max_s=2)
    rng = random.Random(0)
    first = policy.delay(1, None, rng)
    assert first is not None and 0 <= first <= 0.1
    second = policy.delay(2, None, rng)
    assert second is not None and 0 <= second <= 0.2
    rounds = RetryPolicy(rounds=3, backoff_s=0.1, backoff_max_s=0.3)
    for round_no, ceiling in [(1, 0.1), (2, 0.2), (3, 0.3)]:  # doubles, up to the cap
        delays = [rounds.delay(round_no, None, rng) or 0.0 for _ in range(500)]
        assert 0 <= min(delays) < 0.1 * ceiling  # full jitter: from zero...
        assert 0.9 * ceiling < max(delays) <= ceiling  # ...up to the round's ceiling
    assert policy.delay(3, None, rng) is None  # out of rounds
    assert policy.delay(1, 1.5, rng) == 1.5  # Retry-After honoured
    assert policy.delay(1, 30, rng) is None  # too long to wait: give up now
