"""Which Redis failures are an outage, and the back-off every store sharing a client obeys.

An outage is the store being unreachable or unable to serve anyone: a refused or lost connection,
a server still loading, a read-only replica, out of memory, busy in a script. A slow reply or a
long wait for a pooled connection is an outage only if the probe (a PING of its own) fails too:
a burst or a busy moment on either side fails that one call (an idempotent one is tried again),
not the store for everyone, so the replicas keep sharing their limits.

An outage is reported once through `on_error(kind)` and starts a back-off (`pause_s`) during
which every store sharing the `OutageBackoff` skips Redis, so a dead server does not add a
timeout to each request. One outage is one back-off: failures of calls already in flight when it
began are not counted again, and the outage ends at the first call that succeeds.

Any other error (a script or argument error, `ResponseError` or `DataError`) concerns that one
call only: it is logged with the operation's kind and raised to the caller, and it neither counts
as an outage nor makes anyone else skip Redis.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, ReadOnlyError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

OnError = Callable[[str], None]
OutageHook = Callable[[], Awaitable[None] | None]
Probe = Callable[[], Awaitable[bool]]
SLOW_RETRIES = 2  # an idempotent call that was only slow is tried this many times more
T = TypeVar("T")
STORE_ERRORS = (RedisError, OSError, TimeoutError)
TIMEOUT_ERRORS = (RedisTimeoutError, TimeoutError)
# Error replies that describe the server's state rather than the command that got them.
_SERVER_STATE_REPLIES = (
    "LOADING",
    "READONLY",
    "MASTERDOWN",
    "CLUSTERDOWN",
    "TRYAGAIN",
    "BUSY",
    "OOM",
    "NOREPLICAS",
    "MISCONF",
)

log = logging.getLogger("switchboard.stores")


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` means the store cannot serve anyone, rather than that this call was bad."""
    if isinstance(exc, ReadOnlyError):
        return True
    if isinstance(exc, ResponseError):
        return str(exc).startswith(_SERVER_STATE_REPLIES)
    return not isinstance(exc, DataError)


def is_slow(exc: BaseException) -> bool:
    """A reply or a pooled connection that did not come in time: the store may only be busy."""
    if isinstance(exc, TIMEOUT_ERRORS):
        return True
    return isinstance(exc, RedisConnectionError) and str(exc) == "No connection available."


class Down:
    """The store was not asked (back-off, refused connection), or its answer was lost.

    `outage` is False when the store still answers and only this call was too slow: a policy
    for outages (limiting locally) does not apply then.
    """

    def __init__(self, maybe_applied: bool, outage: bool = True) -> None:
        self.maybe_applied = maybe_applied
        self.outage = outage


NOT_SENT = Down(maybe_applied=False)
MAYBE_APPLIED = Down(maybe_applied=True)
SLOW_NOT_SENT = Down(maybe_applied=False, outage=False)
SLOW_MAYBE_APPLIED = Down(maybe_applied=True, outage=False)


class OutageBackoff:
    """After a failure, skip the store for `pause_s`; shared by every store of one client.

    `on_outage` hooks run once when an outage begins (the first failure after a success), e.g.
    to drop pooled connections that a restarted server closed, or to start local windows fresh.
    """

    def __init__(
        self,
        pause_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        probe: Probe | None = None,
    ) -> None:
        self._pause_s = pause_s
        self._clock = clock
        self._probe = probe
        self._probing: asyncio.Future[bool] | None = None
        self._until = 0.0
        self._down = False
        self._hooks: list[OutageHook] = []

    @property
    def down(self) -> bool:
        return self._down

    def should_try(self) -> bool:
        return self._clock() >= self._until

    def on_outage(self, hook: OutageHook) -> None:
        self._hooks.append(hook)

    def succeeded(self) -> None:
        self._down = False

    async def answers(self) -> bool:
        """After a slow call: whether the store still answers the probe (without a probe, or
        in an outage already, False). Calls that fail together share one probe."""
        if self._probe is None or self._down:
            return False
        if self._probing is None:
            self._probing = asyncio.ensure_future(self._probe())
            self._probing.add_done_callback(self._probe_done)
        try:
            return await asyncio.shield(self._probing)
        except Exception:
            return False

    def _probe_done(self, probing: asyncio.Future[bool]) -> None:
        if self._probing is probing:
            self._probing = None

    async def failed(self) -> bool:
        """Start (or, once the pause is over, extend) the back-off; False if already backing off."""
        if self._down and not self.should_try():
            return False  # a call sent before the outage was noticed: same outage, same back-off
        self._until = self._clock() + self._pause_s
        if not self._down:
            self._down = True
            for hook in self._hooks:
                done = hook()
                if inspect.isawaitable(done):
                    await done
        return True


class StoreGuard:
    """Runs one store call; an outage becomes a `Down` and one call to `on_error(kind)`."""

    def __init__(self, kind: str, backoff: OutageBackoff, on_error: OnError) -> None:
        self._kind = kind
        self._backoff = backoff
        self._on_error = on_error

    @property
    def kind(self) -> str:
        return self._kind

    def on_outage(self, hook: OutageHook) -> None:
        self._backoff.on_outage(hook)

    async def call(self, op: Callable[[], Awaitable[T]], *, idempotent: bool = False) -> T | Down:
        """Run `op`; an `idempotent` one (repeating it changes nothing) is tried again, up to
        `SLOW_RETRIES` times, after a slow failure while the store still answers."""
        attempts = 1 + SLOW_RETRIES if idempotent else 1
        for attempt in range(attempts):
            if not self._backoff.should_try():
                return NOT_SENT
            try:
                result = await op()
            except STORE_ERRORS as exc:
                lost = self._lost(exc)
                if is_slow(exc) and await self._backoff.answers():
                    log.warning("store call too slow (%s); it answers: no outage", self._kind)
                    if attempt + 1 < attempts:
                        continue
                    return SLOW_MAYBE_APPLIED if lost.maybe_applied else SLOW_NOT_SENT
                if await self._backoff.failed():
                    log.warning("store call failed (%s): %s", self._kind, type(exc).__name__)
                    self._on_error(self._kind)
                return lost
            self._backoff.succeeded()
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _lost(self, exc: BaseException) -> Down:
        """What became of the call; raises an error that concerns this call only."""
        if not is_outage(exc):
            log.error("store call failed (%s): %s", self._kind, exc)
            raise exc
        # A timed-out command was sent and most likely runs; a refused one never arrived (a
        # connection lost mid-reply is rare, and counted as never arrived).
        return MAYBE_APPLIED if isinstance(exc, TIMEOUT_ERRORS) else NOT_SENT
