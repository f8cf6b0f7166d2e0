"""The store backbone: one Redis client with bounded timeouts and one outage policy, shared by
the limit stores and the conversation store (a redis-server of the test's own, paused)."""

from __future__ import annotations

import asyncio
import time

import pytest

from switchboard.components import conversation_store
from switchboard.config import Settings
from switchboard.domain import Message
from switchboard.errors import ServiceNotReady
from switchboard.limits import Limit, limit_backends
from switchboard.stores.backbone import Policy, RedisOptions, StoreBackbone
from switchboard.stores.conversations import InMemoryConversationStore
from switchboard.testing.processes import RedisProcess
from tests.stores.conftest import Clock, paused

BACKOFF_S = 1.0
BOUND_S = 3.0  # far above the 0.25 s socket timeout, far below a hang


def backbone_on(
    server: RedisProcess, policy: Policy, errors: list[str], clock: Clock
) -> StoreBackbone:
    options = RedisOptions(server.url, "sb:", policy, backoff_s=BACKOFF_S)
    return StoreBackbone(options, errors.append, clock)


def settings_on(server: RedisProcess, policy: Policy) -> Settings:
    return Settings(redis_url=server.url, redis_down_policy=policy, redis_socket_timeout_s=0.25)


def test_no_redis_url_no_backbone() -> None:
    assert StoreBackbone.from_settings(Settings(redis_url=None), lambda kind: None) is None
    assert isinstance(conversation_store(Settings(), None), InMemoryConversationStore)


async def test_settings_shape_the_backbone(redis_process: RedisProcess) -> None:
    settings = Settings(
        redis_url=redis_process.url,
        redis_prefix="x:",
        redis_down_policy="closed",
        redis_socket_timeout_s=0.5,
        redis_max_connections=7,
        redis_backoff_s=3,
    )
    backbone = StoreBackbone.from_settings(settings, lambda kind: None)
    assert backbone is not None
    assert backbone.options == RedisOptions(redis_process.url, "x:", "closed", 0.5, 7, 3)
    assert backbone.client.connection_pool.max_connections == 7
    assert await backbone.ping()
    await backbone.aclose()
    await backbone.aclose()  # closing twice is harmless


async def test_a_paused_redis_degrades_conversations_to_no_memory(
    redis_process: RedisProcess,
) -> None:
    errors: list[str] = []
    clock = Clock()
    backbone = backbone_on(redis_process, "open", errors, clock)
    store = conversation_store(settings_on(redis_process, "open"), backbone)
    await store.append("owner", "c", [Message("user", "before")])
    with paused(redis_process):
        async with asyncio.timeout(BOUND_S):  # before the backbone: no timeout, a hang
            assert await store.history("owner", "c") == []
            await store.append("owner", "c", [Message("user", "lost")])
    assert errors == ["conversations"]
    clock.now += BACKOFF_S
    assert [m.content for m in await store.history("owner", "c")] == ["before"]
    await backbone.aclose()


async def test_a_paused_redis_refuses_conversations_when_closed(
    redis_process: RedisProcess,
) -> None:
    errors: list[str] = []
    backbone = backbone_on(redis_process, "closed", errors, Clock())
    store = conversation_store(settings_on(redis_process, "closed"), backbone)
    with paused(redis_process):
        async with asyncio.timeout(BOUND_S):
            with pytest.raises(ServiceNotReady):
                await store.history("owner", "c")
            with pytest.raises(ServiceNotReady):  # backing off: refused without asking Redis
                await store.append("owner", "c", [Message("user", "x")])
    assert errors == ["conversations"]
    await backbone.aclose()


async def test_one_stall_costs_one_timeout_for_every_store(redis_process: RedisProcess) -> None:
    errors: list[str] = []
    clock = Clock()
    backbone = backbone_on(redis_process, "open", errors, clock)
    limits = limit_backends(backbone)
    store = conversation_store(settings_on(redis_process, "open"), backbone)
    rpm = [Limit("key:s", rpm=100)]
    assert (await limits.rate.reserve(rpm, 1)).reservation.backend == "redis"  # type: ignore[union-attr]
    with paused(redis_process):
        started = time.perf_counter()
        first = await limits.rate.reserve(rpm, 1)
        assert time.perf_counter() - started < BOUND_S
        assert first.allowed and first.reservation.backend == "memory"  # type: ignore[union-attr]
        assert await store.history("owner", "c") == []  # the shared back-off: Redis not asked
        assert (await limits.rate.reserve(rpm, 1)).reservation.backend == "memory"  # type: ignore[union-attr]
    assert errors == ["rate_limit"]  # asking Redis again would have timed out and counted
    clock.now += BACKOFF_S
    assert (await limits.rate.reserve(rpm, 1)).reservation.backend == "redis"  # type: ignore[union-attr]
    await backbone.aclose()
