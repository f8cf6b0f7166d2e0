"""One request's limits reserved together, and settled together later.

An `AdmitPlan` names everything that limits one request (its rate windows, a concurrency lease,
a budget); a `RequestLimiter` checks all of them and reserves all or none, in one step: one Lua
script call on Redis, one call without awaiting in process. The `Admission` it returns says what
refused, if anything, and is what `settle` takes once the real usage is known. Settling returns
at once: in process it is done on the spot, on Redis it is queued and written in batches after
the reply is sent (see `settle_queue.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from switchboard.limits.types import Decision, Limit

Refusal = Literal["", "spend", "rate", "lease"]


@dataclass(frozen=True, slots=True)
class LeasePlan:
    """A concurrency slot: at most `limit` leases live in `scope`; each expires after `ttl_s`."""

    scope: str
    limit: int
    lease_id: str
    ttl_s: float = 600


@dataclass(frozen=True, slots=True)
class SpendPlan:
    """`amount_micro` reserved against `budget_micro` in the account (scope, period)."""

    scope: str
    period: str
    amount_micro: int
    budget_micro: int


@dataclass(frozen=True, slots=True)
class AdmitPlan:
    """Everything that limits one request; `once` makes a repeated call count once."""

    rates: Sequence[Limit] = ()
    tokens: int = 0
    lease: LeasePlan | None = None
    spend: SpendPlan | None = None
    once: str = ""
    now: float | None = None

    @property
    def kind(self) -> str:
        """The store kind an outage met with this plan is reported as (the first it holds)."""
        if self.rates:
            return "rate_limit"
        return "concurrency" if self.lease is not None else "spend"


@dataclass(slots=True)
class Admission:
    """The answer to an admit, and what settling it needs.

    `refused` names the first limit that refused ("spend", then "rate", then "lease"); nothing
    is reserved then. `unavailable` names the store that could not be asked ("" = it answered).
    `seeded` is False when the budget's account holds no database baseline yet: nothing was
    checked or reserved; seed it and admit again. `backend` is where the reservations live.
    """

    allowed: bool
    plan: AdmitPlan
    backend: str
    rate: Decision | None = None
    refused: Refusal = ""
    unavailable: str = ""
    seeded: bool = True
    spent_micro: int = 0
    reserved_micro: int = 0
    second: int = 0
    hold: str = ""
    rate_scopes: tuple[str, ...] = field(default=())
    settled: bool = False


class RequestLimiter(Protocol):
    """Reserve all of a request's limits at once; settle them without waiting."""

    async def admit(self, plan: AdmitPlan) -> Admission: ...

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        """Set the account's database baseline if none is set yet; True if this call set it."""
        ...

    def settle(self, admission: Admission, actual_tokens: int, actual_micro: int) -> None:
        """Release the lease and the spend hold, record the real tokens and spend (once)."""
        ...

    def release_interrupted(self, plan: AdmitPlan) -> None:
        """Undo what an admit interrupted in flight may have reserved (lease and budget hold)."""
        ...

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Write out what is still queued (at shutdown)."""
        ...
