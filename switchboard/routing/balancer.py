"""Load-balancing strategies: put a model's deployments in the order they should be tried."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from switchboard.routing.affinity import prefix_affinity
from switchboard.routing.health import DeploymentHealth

Strategy = Callable[[list[DeploymentHealth], random.Random], list[DeploymentHealth]]
KeyedStrategy = Callable[[list[DeploymentHealth], bytes, float], list[DeploymentHealth]]


def _weighted_shuffle(items: list[DeploymentHealth], rng: random.Random) -> list[DeploymentHealth]:
    """Weighted sampling without replacement (Efraimidis-Spirakis keys)."""
    return sorted(items, key=lambda h: rng.random() ** (1.0 / h.deployment.weight), reverse=True)


def weighted(items: list[DeploymentHealth], rng: random.Random) -> list[DeploymentHealth]:
    return items if len(items) == 1 else _weighted_shuffle(items, rng)


def least_busy(items: list[DeploymentHealth], rng: random.Random) -> list[DeploymentHealth]:
    shuffled = _weighted_shuffle(items, rng)  # random among equals
    return sorted(shuffled, key=lambda h: h.in_flight / h.deployment.weight)


def lowest_latency(items: list[DeploymentHealth], rng: random.Random) -> list[DeploymentHealth]:
    """Unmeasured deployments go first so that each gets measured."""
    shuffled = _weighted_shuffle(items, rng)
    return sorted(
        shuffled, key=lambda h: h.latency_ewma_s if h.latency_ewma_s is not None else -1.0
    )


def priority(items: list[DeploymentHealth], rng: random.Random) -> list[DeploymentHealth]:
    shuffled = _weighted_shuffle(items, rng)
    return sorted(shuffled, key=lambda h: h.deployment.priority)


STRATEGIES: Mapping[str, Strategy] = {
    "weighted": weighted,
    "least_busy": least_busy,
    "latency": lowest_latency,
    "priority": priority,
}


# strategies that order by a key of the request (routing/affinity.py); without one: least busy
KEYED_STRATEGIES: Mapping[str, KeyedStrategy] = {"prefix_affinity": prefix_affinity}


def order_deployments(
    items: list[DeploymentHealth],
    strategy: str,
    rng: random.Random,
    key: bytes | None = None,
    balance: float = 1.25,
) -> list[DeploymentHealth]:
    keyed = KEYED_STRATEGIES.get(strategy)
    if keyed is not None:
        return keyed(items, key, balance) if key is not None else least_busy(items, rng)
    return STRATEGIES[strategy](items, rng)
