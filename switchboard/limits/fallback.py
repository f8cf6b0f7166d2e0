"""What the limit stores do while Redis is unreachable: the "open" or "closed" policy.

Each wrapper keeps the protocol of the store it wraps. When Redis is unreachable (see
`switchboard.stores.guard` for what counts as an outage) the outage is reported once through
`on_error(kind)`, and for `pause_s` every wrapper sharing the back-off skips Redis, so a dead server
does not add a timeout to each request; then Redis is tried again, with no permanent latch. An
error that concerns one call only (a script error) is raised to that call's caller instead.

- "open": answer from an in-process store, so each replica still enforces every limit locally.
  While Redis is down the effective limit is therefore N times the configured one across N
  replicas. Local rate windows start empty at the start of each outage (what was counted locally
  in an earlier outage is in no window Redis knows of, and is not carried into the next one).
  Local leases and local spend carry on across outages on purpose: they stand for requests still
  in flight and money spent. Budgets start from the last figure Redis reported.
- "closed": refuse (`unavailable=True`), so the caller can answer 503 rather than 429.

A call that was only slow (Redis still answers a PING) is no outage: reserves carry a `once` id
and are tried again, so the answer of the first try is not lost and nothing is counted twice.
If every try is too slow, the request is refused as "unavailable" under either policy: Redis is
up, so limiting locally would only add a replica's worth of overshoot.

Releases and spend settlements that could not reach Redis are queued and replayed once it answers
again, so leases are not held until their TTL and reserved spend does not leak. A settlement that
timed out is not replayed: it was sent, and Redis most likely applies it (replaying could count it
twice). Likewise a reserve that timed out may be counted both in Redis and locally (conservative).
A rate settle that fails is dropped: its tokens stay reserved until their bucket leaves the window.
"""

from __future__ import annotations

import secrets
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Literal, TypeVar

from switchboard.limits.base import ConcurrencyLimiter, RateLimiter, SpendLedger
from switchboard.limits.memory import (
    MemoryConcurrencyLimiter,
    MemoryRateLimiter,
    MemorySpendLedger,
)
from switchboard.limits.types import Decision, Limit, Reservation, SpendDecision
from switchboard.stores.guard import Down as _Down
from switchboard.stores.guard import OnError, OutageBackoff, StoreGuard

__all__ = [
    "FallbackConcurrencyLimiter",
    "FallbackRateLimiter",
    "FallbackSpendLedger",
    "OnError",
    "OutageBackoff",
    "Policy",
    "StoreGuard",
]

Policy = Literal["open", "closed"]
T = TypeVar("T")
REPLAY_BATCH = 100  # queued operations replayed ahead of one call, so no call waits for all


class FallbackRateLimiter:
    """A RateLimiter on Redis; when it is down, local windows ("open") or a refusal ("closed")."""

    def __init__(
        self,
        shared: RateLimiter,
        local: MemoryRateLimiter,
        guard: StoreGuard,
        policy: Policy,
        closed_retry_after_s: float = 2.0,
    ) -> None:
        self._shared, self._local, self._guard = shared, local, guard
        self._policy = policy
        self._closed_retry_after_s = closed_retry_after_s
        guard.on_outage(local.reset)  # each outage's local windows start empty

    async def reserve(
        self, limits: Sequence[Limit], tokens: int, now: float | None = None, once: str = ""
    ) -> Decision:
        once = once or secrets.token_hex(8)
        decision = await self._guard.call(
            lambda: self._shared.reserve(limits, tokens, now, once), idempotent=True
        )
        if not isinstance(decision, _Down):
            return decision
        if self._policy == "open" and decision.outage:
            return await self._local.reserve(limits, tokens, now)
        return Decision(False, None, self._closed_retry_after_s, unavailable=True)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        if reservation.backend == self._local.backend:
            await self._local.settle(reservation, actual_tokens)
        else:
            await self._guard.call(lambda: self._shared.settle(reservation, actual_tokens))


class FallbackConcurrencyLimiter:
    """Slots on Redis; when it is down, local slots ("open") or none ("closed": acquire False)."""

    def __init__(
        self,
        shared: ConcurrencyLimiter,
        local: MemoryConcurrencyLimiter,
        guard: StoreGuard,
        policy: Policy,
        max_pending: int = 10_000,
    ) -> None:
        self._shared, self._local, self._guard = shared, local, guard
        self._policy = policy
        self._max_pending = max_pending
        self._pending: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def acquire(
        self, scope: str, limit: int, lease_id: str, ttl_s: float = 600, now: float | None = None
    ) -> bool:
        granted = await self._call(
            partial(self._shared.acquire, scope, limit, lease_id, ttl_s, now)  # by lease id
        )
        if not isinstance(granted, _Down):
            return granted
        if self._policy == "open" and granted.outage:
            return await self._local.acquire(scope, limit, lease_id, ttl_s, now)
        return False

    async def release(self, scope: str, lease_id: str) -> None:
        if self._local.holds(scope, lease_id):
            await self._local.release(scope, lease_id)
        elif isinstance(await self._call(partial(self._shared.release, scope, lease_id)), _Down):
            self._queue(scope, lease_id)  # a release is idempotent: replay even if it ran

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T | _Down:
        """Replay queued releases first, so the call sees the slots they free."""
        for _ in range(min(len(self._pending), REPLAY_BATCH)):
            scope, lease_id = self._pending.popitem(last=False)[0]
            released = await self._guard.call(
                partial(self._shared.release, scope, lease_id), idempotent=True
            )
            if isinstance(released, _Down):
                self._queue(scope, lease_id)
                break
        return await self._guard.call(op, idempotent=True)  # acquire and release: by lease id

    def _queue(self, scope: str, lease_id: str) -> None:
        self._pending[(scope, lease_id)] = None
        while len(self._pending) > self._max_pending:
            self._pending.popitem(last=False)  # that lease lapses at its TTL instead


class FallbackSpendLedger:
    """Budgets on Redis; when it is down, a local ledger from the last spend Redis reported."""

    def __init__(
        self,
        shared: SpendLedger,
        local: MemorySpendLedger,
        guard: StoreGuard,
        policy: Policy,
        max_keys: int = 10_000,
    ) -> None:
        self._shared, self._local, self._guard = shared, local, guard
        self._policy = policy
        self._max_keys = max_keys
        self._last_spent: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._local_held: Counter[tuple[str, str, int]] = Counter()
        self._pending: OrderedDict[tuple[str, str, str], tuple[int, int]] = OrderedDict()

    async def reserve(
        self, scope: str, period: str, amount_micro: int, budget_micro: int, once: str = ""
    ) -> SpendDecision:
        once = once or secrets.token_hex(8)
        decision = await self._call(
            partial(self._shared.reserve, scope, period, amount_micro, budget_micro, once),
            idempotent=True,
        )
        if not isinstance(decision, _Down):
            self._remember(scope, period, decision.spent_micro)
            return decision
        if self._policy == "closed" or not decision.outage:
            return SpendDecision(False, 0, 0, unavailable=True)
        self.raise_local(scope, period)
        decision = await self._local.reserve(scope, period, amount_micro, budget_micro)
        if decision.allowed:
            self._local_held[(scope, period, amount_micro)] += 1
        return decision

    async def settle(
        self, scope: str, period: str, reserved_micro: int, actual_micro: int, hold: str = ""
    ) -> None:
        held = (scope, period, reserved_micro)
        if self._local_held[held] > 0:
            # Reserved locally: release it here and forward only the spend. Equal amounts are
            # interchangeable, so which of two equal reservations is released here cannot matter.
            self._local_held[held] -= 1
            if not self._local_held[held]:
                del self._local_held[held]
            await self._local.settle(scope, period, reserved_micro, actual_micro)
            reserved_micro = 0
        done = await self._call(
            partial(self._shared.settle, scope, period, reserved_micro, actual_micro, hold),
            idempotent=False,
        )
        if isinstance(done, _Down) and not done.maybe_applied:
            self._queue(scope, period, hold, reserved_micro, actual_micro)

    async def spent(self, scope: str, period: str) -> int:
        spent = await self._call(partial(self._shared.spent, scope, period), idempotent=True)
        if not isinstance(spent, _Down):
            self._remember(scope, period, spent)
            return spent
        self.raise_local(scope, period)
        return await self._local.spent(scope, period)

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        seeded_here = await self._local.seed(scope, period, spent_micro)
        seeded = await self._call(
            partial(self._shared.seed, scope, period, spent_micro), idempotent=True
        )
        return seeded_here if isinstance(seeded, _Down) else seeded

    async def _call(self, op: Callable[[], Awaitable[T]], idempotent: bool) -> T | _Down:
        """Replay queued settlements first, so the call sees the budget they free or use."""
        for _ in range(min(len(self._pending), REPLAY_BATCH)):
            (scope, period, hold), (reserved, actual) = self._pending.popitem(last=False)
            done = await self._guard.call(
                partial(self._shared.settle, scope, period, reserved, actual, hold)
            )
            if isinstance(done, _Down):
                if not done.maybe_applied:
                    self._queue(scope, period, hold, reserved, actual)
                break
        return await self._guard.call(op, idempotent=idempotent)

    def _queue(self, scope: str, period: str, hold: str, reserved: int, actual: int) -> None:
        """Settlements without a hold add up per account; one with a hold is its own entry."""
        queued_reserved, queued_actual = self._pending.pop((scope, period, hold), (0, 0))
        self._pending[(scope, period, hold)] = (queued_reserved + reserved, queued_actual + actual)
        while len(self._pending) > self._max_keys:
            self._pending.popitem(last=False)

    @property
    def policy(self) -> Policy:
        return self._policy

    def raise_local(self, scope: str, period: str) -> None:
        """Lift the local account to the last spend Redis reported (before limiting locally)."""
        self._local.raise_spent(scope, period, self._last_spent.get((scope, period), 0))

    def remember(self, scope: str, period: str, spent_micro: int) -> None:
        """Keep the spend Redis reported, the local ledger's start in the next outage."""
        self._remember(scope, period, spent_micro)

    def _remember(self, scope: str, period: str, spent_micro: int) -> None:
        self._last_spent[(scope, period)] = spent_micro
        self._last_spent.move_to_end((scope, period))
        while len(self._last_spent) > self._max_keys:
            self._last_spent.popitem(last=False)
