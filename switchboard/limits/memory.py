"""In-process limit stores: exact for one replica, and the local fallback while Redis is down.

A call here cannot lose its reply, so the `once` ids of reserves are not needed and ignored.

Each method does all its reading and writing without awaiting, so on one event loop every call is
atomic just as one Lua script call is in Redis. Idle state is swept once a window, which keeps
memory bounded by the scopes active in the last minute (rates) or holding leases or live periods.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from switchboard.limits.types import (
    WINDOW_S,
    Decision,
    Limit,
    Reservation,
    SpendDecision,
    WindowUsage,
    build_decision,
    merge_limits,
    period_ttl_s,
    wait_until_fits,
)

Clock = Callable[[], float]


class MemoryRateLimiter:
    """Per scope a dict {epoch second: [requests, tokens]} holding at most WINDOW_S buckets."""

    backend = "memory"

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._scopes: dict[str, dict[int, list[int]]] = {}
        self._next_sweep = 0

    async def reserve(
        self, limits: Sequence[Limit], tokens: int, now: float | None = None, once: str = ""
    ) -> Decision:
        return self.reserve_now(limits, tokens, now)

    def reserve_now(
        self, limits: Sequence[Limit], tokens: int, now: float | None = None, commit: bool = True
    ) -> Decision:
        """`reserve` without awaiting; with `commit` False a fitting request is only checked."""
        now = self._clock() if now is None else now
        sec = math.floor(now)
        self._sweep(sec)
        merged = merge_limits(limits)
        windows = [self._window(limit.scope, sec) for limit in merged]
        usages = [_usage(limit, window) for limit, window in zip(merged, windows, strict=True)]
        if all(_fits(usage, tokens) for usage in usages):
            if not commit:
                return build_decision(usages, True, None, 0.0, now)
            for limit in merged:
                bucket = self._scopes.setdefault(limit.scope, {}).setdefault(sec, [0, 0])
                bucket[0] += 1
                bucket[1] += tokens
            counted = [_count(u, tokens, sec) for u in usages]
            scopes = tuple(limit.scope for limit in merged)
            reservation = Reservation(scopes, sec, tokens, self.backend)
            return build_decision(counted, True, reservation, 0.0, now)
        retry = max(
            _retry_after(usage, window, tokens, now)
            for usage, window in zip(usages, windows, strict=True)
        )
        return build_decision(usages, False, None, retry, now)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        self.settle_now(reservation, actual_tokens)

    def settle_now(self, reservation: Reservation, actual_tokens: int) -> None:
        if reservation.settled:
            return
        delta = actual_tokens - reservation.tokens
        for scope in reservation.scopes:
            bucket = self._scopes.get(scope, {}).get(reservation.second)
            if bucket is not None:
                bucket[1] = max(0, bucket[1] + delta)
        reservation.settled = True

    def reset(self) -> None:
        """Forget every window (the fallback starts each Redis outage with empty ones)."""
        self._scopes.clear()

    def _window(self, scope: str, sec: int) -> dict[int, list[int]]:
        window = self._scopes.get(scope)
        if window is None:
            return {}
        for second in [s for s in window if s <= sec - WINDOW_S]:
            del window[second]
        return window

    def _sweep(self, sec: int) -> None:
        if sec < self._next_sweep:
            return
        self._next_sweep = sec + WINDOW_S
        for scope in list(self._scopes):
            if not self._window(scope, sec):
                del self._scopes[scope]


def _usage(limit: Limit, window: dict[int, list[int]]) -> WindowUsage:
    requests = sum(bucket[0] for bucket in window.values())
    tokens = sum(bucket[1] for bucket in window.values())
    return WindowUsage(limit, requests, tokens, max(window, default=None))


def _count(usage: WindowUsage, tokens: int, sec: int) -> WindowUsage:
    newest = sec if usage.newest_second is None else max(sec, usage.newest_second)
    return WindowUsage(usage.limit, usage.requests + 1, usage.tokens + tokens, newest)


def _fits(usage: WindowUsage, tokens: int) -> bool:
    rpm, tpm = usage.limit.rpm, usage.limit.tpm
    return (rpm is None or usage.requests + 1 <= rpm) and (
        tpm is None or usage.tokens + tokens <= tpm
    )


def _retry_after(
    usage: WindowUsage, window: dict[int, list[int]], tokens: int, now: float
) -> float:
    waits = [0.0]
    if usage.limit.rpm is not None:
        buckets = [(s, b[0]) for s, b in window.items()]
        waits.append(wait_until_fits(buckets, usage.requests, 1, usage.limit.rpm, now))
    if usage.limit.tpm is not None:
        buckets = [(s, b[1]) for s, b in window.items()]
        waits.append(wait_until_fits(buckets, usage.tokens, tokens, usage.limit.tpm, now))
    return max(waits)


class MemoryConcurrencyLimiter:
    """Per scope a dict {lease id: expiry}; expired leases are dropped before counting."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._leases: dict[str, dict[str, float]] = {}
        self._next_sweep = 0.0

    async def acquire(
        self, scope: str, limit: int, lease_id: str, ttl_s: float = 600, now: float | None = None
    ) -> bool:
        return self.acquire_now(scope, limit, lease_id, ttl_s, now)

    def acquire_now(
        self,
        scope: str,
        limit: int,
        lease_id: str,
        ttl_s: float = 600,
        now: float | None = None,
        commit: bool = True,
    ) -> bool:
        """`acquire` without awaiting; with `commit` False the slot is only checked."""
        now = self._clock() if now is None else now
        self._sweep(now)
        leases = self._live(scope, now)
        if lease_id not in leases and len(leases) >= limit:
            return False
        if commit:
            self._leases.setdefault(scope, leases)[lease_id] = now + ttl_s
        return True

    async def release(self, scope: str, lease_id: str) -> None:
        self.release_now(scope, lease_id)

    def release_now(self, scope: str, lease_id: str) -> None:
        leases = self._leases.get(scope)
        if leases is not None:
            leases.pop(lease_id, None)
            if not leases:
                del self._leases[scope]

    def holds(self, scope: str, lease_id: str) -> bool:
        """Whether this store granted `lease_id` (the fallback wrapper routes releases by it)."""
        return lease_id in self._leases.get(scope, {})

    def _live(self, scope: str, now: float) -> dict[str, float]:
        leases = self._leases.get(scope, {})
        for lease_id in [lid for lid, expiry in leases.items() if expiry <= now]:
            del leases[lease_id]
        return leases

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + WINDOW_S
        for scope in list(self._leases):
            if not self._live(scope, now):
                del self._leases[scope]


@dataclass(slots=True)
class _Account:
    base: int | None = None
    spent: int = 0
    reserved: int = 0
    expires_at: float | None = None

    @property
    def total(self) -> int:
        return (self.base or 0) + self.spent


class MemorySpendLedger:
    """Per (scope, period) a database baseline, the spend since, and what is reserved."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._accounts: dict[tuple[str, str], _Account] = {}
        self._next_sweep = 0.0

    async def reserve(
        self, scope: str, period: str, amount_micro: int, budget_micro: int, once: str = ""
    ) -> SpendDecision:
        return self.reserve_now(scope, period, amount_micro, budget_micro)

    def reserve_now(
        self, scope: str, period: str, amount_micro: int, budget_micro: int, commit: bool = True
    ) -> SpendDecision:
        """`reserve` without awaiting; with `commit` False the amount is only checked."""
        account = self._account(scope, period)
        allowed = account.total + account.reserved + amount_micro <= budget_micro
        if allowed and commit:
            account.reserved += amount_micro
        return SpendDecision(allowed, account.total, account.reserved, account.base is not None)

    async def settle(
        self, scope: str, period: str, reserved_micro: int, actual_micro: int, hold: str = ""
    ) -> None:
        self.settle_now(scope, period, reserved_micro, actual_micro)

    def settle_now(self, scope: str, period: str, reserved_micro: int, actual_micro: int) -> None:
        account = self._account(scope, period)
        account.reserved = max(0, account.reserved - reserved_micro)
        account.spent += actual_micro

    async def spent(self, scope: str, period: str) -> int:
        account = self._accounts.get((scope, period))
        return account.total if account is not None else 0

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        account = self._account(scope, period)
        if account.base is not None:
            return False
        account.base = spent_micro
        return True

    def raise_spent(self, scope: str, period: str, spent_micro: int) -> None:
        """Lift the total spent to at least `spent_micro` (the last figure Redis reported)."""
        account = self._account(scope, period)
        if account.total < spent_micro:
            account.base = spent_micro - account.spent

    def _account(self, scope: str, period: str) -> _Account:
        now = self._clock()
        self._sweep(now)
        account = self._accounts.setdefault((scope, period), _Account())
        ttl = period_ttl_s(period)
        account.expires_at = None if ttl is None else now + ttl
        return account

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + WINDOW_S
        for key, account in list(self._accounts.items()):
            if account.expires_at is not None and account.expires_at <= now:
                del self._accounts[key]
