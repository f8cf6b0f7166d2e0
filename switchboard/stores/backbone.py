"""The one place that builds the shared Redis client, its timeouts and its outage policy.

Every Redis store (rate limits, slots, budgets, conversations) takes its client, key prefix,
down policy and `StoreGuard` from a `StoreBackbone`, so they share one pool, one back-off and one
error callback: an outage is noticed once, logged, reported through `on_error(kind)` (the
gateway counts it in a metric), and skipped by every store until the back-off ends. The SQL
engine is built in one place too, by `switchboard.keys.engine`.

- Timeouts are short (`socket_timeout_s`, 0.25 s by default): a stalled server costs a request
  at most that, once per back-off, never a hang.
- Commands are never retried by the client: a retried script could count a request twice.
- When an outage begins, idle pooled connections are dropped, so after a restart the next
  attempt opens fresh ones instead of failing once per stale connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from switchboard.stores.guard import OnError, OutageBackoff, StoreGuard

if TYPE_CHECKING:
    from switchboard.config import Settings

Policy = Literal["open", "closed"]
log = logging.getLogger("switchboard.stores")


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """How to reach Redis and what the stores do while it is down ("open" or "closed")."""

    url: str
    prefix: str = "sb:"
    policy: Policy = "open"
    socket_timeout_s: float = 0.25
    max_connections: int = 64
    backoff_s: float = 1.0

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
        )


def connect_redis(url: str, *, socket_timeout_s: float = 0.25, max_connections: int = 64) -> Redis:
    """A client with bounded timeouts and no command retry; creating it does no I/O.

    A burst beyond `max_connections` waits (up to 4 socket timeouts, at least 1 s) for a free
    connection instead of failing.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=max(1.0, 4 * socket_timeout_s),
        socket_timeout=socket_timeout_s,
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
        )
        self.backoff = OutageBackoff(options.backoff_s, clock)
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

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.client.aclose()

    async def _drop_idle_connections(self) -> None:
        await self.client.connection_pool.disconnect(inuse_connections=False)
