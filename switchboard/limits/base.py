"""The three limit stores the pipeline talks to; each has a memory and a Redis implementation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from switchboard.limits.types import Decision, Limit, Reservation, SpendDecision


class RateLimiter(Protocol):
    """Sliding-window requests-per-minute and tokens-per-minute, exact across replicas."""

    async def reserve(
        self, limits: Sequence[Limit], tokens: int, now: float | None = None, once: str = ""
    ) -> Decision:
        """Count 1 request and `tokens` against every limit, or against none if any is full.

        A call repeated with the same `once` id (a retry after a lost reply) is counted once."""
        ...

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        """Correct the reserved tokens to `actual_tokens`; a second call is a no-op."""
        ...


class ConcurrencyLimiter(Protocol):
    """At most `limit` requests in flight per scope; leases expire so crashed holders free slots."""

    async def acquire(
        self, scope: str, limit: int, lease_id: str, ttl_s: float = 600, now: float | None = None
    ) -> bool:
        """Take a slot for `lease_id` (re-acquiring a held lease refreshes it)."""
        ...

    async def release(self, scope: str, lease_id: str) -> None: ...


class SpendLedger(Protocol):
    """Budgets per (scope, period) in integer micro-dollars: reserve before, settle after."""

    async def reserve(
        self, scope: str, period: str, amount_micro: int, budget_micro: int, once: str = ""
    ) -> SpendDecision:
        """Allowed iff spent + reserved + amount <= budget; then amount is added to reserved.

        A call repeated with the same `once` id (a retry after a lost reply) reserves once."""
        ...

    async def settle(
        self, scope: str, period: str, reserved_micro: int, actual_micro: int, hold: str = ""
    ) -> None:
        """Release the reserve's `hold` (else `reserved_micro`; reserved never goes below 0);
        add `actual_micro` to spent."""
        ...

    async def spent(self, scope: str, period: str) -> int: ...

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        """Set the database baseline if none is set yet; True if this call set it."""
        ...
