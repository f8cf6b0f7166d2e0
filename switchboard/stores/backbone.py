"""The one place that builds the shared Redis client, its timeouts and its outage policy.

Every Redis store (rate limits, slots, budgets, conversations) takes its client, key prefix,
down policy and `StoreGuard` from a `StoreBackbone`, so they share one pool, one back-off and one
error callback: an outage is noticed once, logged, reported through `on_error(kind)` (the
gateway counts it in a metric), and skipped by every store until the back-off ends. The SQL
engine is built in one place too, by `switchboard.keys.engine`.

- Connecting is bounded by `socket_timeout_s` (0.25 s by default) and each command's reply by
  `command_timeout_s` (1 s): a dead server is noticed at once, a busy one is given time. A burst
  beyond the pool queues for a connection (up to `POOL_WAIT_FACTOR` command timeouts).
- A slow reply or a long wait for a connection is not an outage by itself: the guard asks a probe
  (PING on a connection of its own, one probe at a time) and declares an outage only if that
  fails too. A stalled server thus costs at most two command timeouts, once per back-off. The
  probe runs in a thread with a blocking client, so an event loop too busy to read its replies
  in time (the client side of a "slow Redis") cannot fail it.
- Commands are never retried by the client: a retried script could count a request twice.
- When an outage begins, idle pooled connections are dropped, so after a restart the next
  attempt opens fresh ones instead of failing once per stale connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import redis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.retry import Retry as SyncRetry

from switchboard.stores.guard import OnError, OutageBackoff, StoreGuard

if TYPE_CHECKING:
    from switchboard.config import Settings

Policy = Literal["open", "closed"]
POOL_WAIT_FACTOR = 5  # a queued command waits for a connection up to this many command timeouts
log = logging.getLogger("switchboard.stores")


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """How to reach Redis and what the stores do while it is down ("open" or "closed").

    `budget_policy` is that of budgets alone: "closed" by default, as "open" lets each of N
    replicas spend the whole remaining budget on its own while Redis is unreachable.
    """

    url: str
    prefix: str = "sb:"
    policy: Policy = "open"
    socket_timeout_s: float = 0.25
    max_connections: int = 64
    backoff_s: float = 1.0
    command_timeout_s: float = 1.0
    budget_policy: Policy = "closed"

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisOptions | None:
        """None when no Redis URL is set: every store is then embedded."""
        if settings.redis_url is None:
            return None
        return cls(
            url=settings.redis_url,
            prefix=settings.redis_prefix,
            policy=settings.redis_down_policy,
            socket_timeout_s=settings.redis_socket_timeout_s,
            max_connections=settings.redis_max_connections,
            backoff_s=settings.redis_backoff_s,
            command_timeout_s=settings.redis_command_timeout_s,
            budget_policy=settings.redis_budget_down_policy,
        )


def connect_redis(
    url: str,
    *,
    socket_timeout_s: float = 0.25,
    max_connections: int = 64,
    command_timeout_s: float | None = None,
) -> Redis:
    """A client with bounded timeouts and no command retry; creating it does no I/O.

    `socket_timeout_s` bounds connecting, `command_timeout_s` (default: the same) each reply. A
    burst beyond `max_connections` waits for a free connection (up to `POOL_WAIT_FACTOR` command
    timeouts) instead of failing.
    """
    command_s = socket_timeout_s if command_timeout_s is None else command_timeout_s
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=POOL_WAIT_FACTOR * command_s,
        socket_timeout=command_s,
        socket_connect_timeout=socket_timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)


class StoreBackbone:
    """The Redis client every store shares, with its prefix, down policy and outage back-off."""

    def __init__(
        self,
        options: RedisOptions,
        on_error: OnError,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.client = connect_redis(
            options.url,
            socket_timeout_s=options.socket_timeout_s,
            max_connections=options.max_connections,
            command_timeout_s=options.command_timeout_s,
        )
        self._probe_client = redis.Redis.from_url(
            options.url,
            socket_timeout=options.command_timeout_s,
            socket_connect_timeout=options.socket_timeout_s,
            retry=SyncRetry(NoBackoff(), 0),
        )
        self.backoff = OutageBackoff(options.backoff_s, clock, self._probe)
        self.backoff.on_outage(self._drop_idle_connections)
        self._on_error = on_error
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, on_error: OnError) -> StoreBackbone | None:
        """None when no Redis URL is set."""
        options = RedisOptions.from_settings(settings)
        return None if options is None else cls(options, on_error)

    @property
    def prefix(self) -> str:
        return self.options.prefix

    @property
    def policy(self) -> Policy:
        return self.options.policy

    def guard(self, kind: str) -> StoreGuard:
        """A guard for one kind of store; `kind` labels its errors ("rate_limit", ...)."""
        return StoreGuard(kind, self.backoff, self._report)

    def _report(self, kind: str) -> None:
        log.warning("shared store unreachable (%s); policy: %s", kind, self.policy)
        self._on_error(kind)

    async def ping(self) -> bool:
        """Whether Redis answers now (readiness); never raises."""
        try:
            return bool(await self.client.ping())
        except Exception:
            return False

    async def _probe(self) -> bool:
        """Whether Redis answers a PING within a command timeout, asked from a thread."""
        return await asyncio.to_thread(self._ping_blocking)

    def _ping_blocking(self) -> bool:
        try:
            return bool(self._probe_client.ping())
        except Exception:
            self._probe_client.connection_pool.disconnect()
            return False

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.client.aclose()
            self._probe_client.close()

    async def _drop_idle_connections(self) -> None:
        await self.client.connection_pool.disconnect(inuse_connections=False)
