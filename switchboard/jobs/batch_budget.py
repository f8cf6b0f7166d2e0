"""A batch's estimated cost, held in the key's budget ledger from submission to its end.

Lines run with the budget check left to this hold (their key is passed on without a budget, so
the pipeline reserves nothing more for them; rate limits still apply), each line's real cost is
added to the ledger's spend as it is recorded, and once a second the hold shrinks to what the
lines still to run may cost. A shared (Redis) ledger expires holds after its hold time; a batch
that runs longer keeps running, unprotected from then on.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.jobs.batch_store import SqlBatchStore
    from switchboard.keys.models import ApiKey
    from switchboard.limits.base import SpendLedger


@dataclass
class BatchHold:
    ledger: SpendLedger
    scope: str
    period: str
    budget_micro: int
    batch_id: str
    amount: int  # micro-dollars held now
    hold: str  # the ledger's name for it ("" where the ledger keeps no holds)

    async def book(self, cost_usd: float) -> None:
        """A recorded line's real cost joins the spend (the hold shrinks separately)."""
        await self.ledger.settle(self.scope, self.period, 0, math.ceil(cost_usd * 1e6 - 1e-9))

    async def shrink(self, store: SqlBatchStore, amount: int) -> None:
        """Hold `amount` instead: release the old hold, then take a new one (refused or not:
        an accepted batch runs to its end)."""
        if amount >= self.amount:
            return
        await self.ledger.settle(self.scope, self.period, self.amount, 0, hold=self.hold)
        self.amount, self.hold = 0, ""
        if amount > 0:
            once = f"batch:{self.batch_id}:{secrets.token_hex(4)}"
            got = await self.ledger.reserve(
                self.scope, self.period, amount, self.budget_micro, once
            )
            if got.allowed:
                self.amount, self.hold = amount, got.hold or ""
        await store.update_batch(self.batch_id, reserved_micro=self.amount,
                                 reservation_hold=self.hold)  # fmt: skip


def batch_hold(
    ledger: SpendLedger | None, key: ApiKey | None, batch: object, period: str
) -> BatchHold | None:
    if ledger is None or key is None or key.budget_usd is None:
        return None
    return BatchHold(ledger, f"key:{key.id}", period, round(key.budget_usd * 1_000_000),
                     batch.id, batch.reserved_micro, batch.reservation_hold or "")  # type: ignore[attr-defined]  # fmt: skip
