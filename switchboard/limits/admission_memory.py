"""The in-process RequestLimiter: the same all-or-nothing admission, done without awaiting.

It works on the three in-process stores (so the Redis fallback's local stores can be shared with
it), and since nothing in `admit_now` or `settle` awaits, each runs atomically on the event loop.
"""

from __future__ import annotations

from switchboard.limits.admission import Admission, AdmitPlan, Refusal
from switchboard.limits.memory import (
    MemoryConcurrencyLimiter,
    MemoryRateLimiter,
    MemorySpendLedger,
)


class MemoryRequestLimiter:
    backend = "memory"

    def __init__(
        self,
        rate: MemoryRateLimiter | None = None,
        concurrency: MemoryConcurrencyLimiter | None = None,
        spend: MemorySpendLedger | None = None,
    ) -> None:
        self.rate = rate or MemoryRateLimiter()
        self.concurrency = concurrency or MemoryConcurrencyLimiter()
        self.spend = spend or MemorySpendLedger()

    async def admit(self, plan: AdmitPlan) -> Admission:
        return self.admit_now(plan)

    def admit_now(self, plan: AdmitPlan) -> Admission:
        """Check every limit, then reserve all of them or none."""
        spend, lease = plan.spend, plan.lease
        spend_ok, spent, reserved = True, 0, 0
        if spend is not None:
            checked = self.spend.reserve_now(
                spend.scope, spend.period, spend.amount_micro, spend.budget_micro, commit=False
            )
            if not checked.seeded:
                return Admission(False, plan, self.backend, seeded=False)
            spend_ok, spent, reserved = checked.allowed, checked.spent_micro, checked.reserved_micro
        lease_ok = lease is None or self.concurrency.acquire_now(
            lease.scope, lease.limit, lease.lease_id, lease.ttl_s, plan.now, commit=False
        )
        decision = None
        if plan.rates:
            commit = spend_ok and lease_ok
            decision = self.rate.reserve_now(plan.rates, plan.tokens, plan.now, commit)
        refused: Refusal = (
            "spend"
            if not spend_ok
            else "rate"
            if decision is not None and not decision.allowed
            else "lease"
            if not lease_ok
            else ""
        )
        if not refused:
            if lease is not None:
                self.concurrency.acquire_now(
                    lease.scope, lease.limit, lease.lease_id, lease.ttl_s, plan.now
                )
            if spend is not None:
                reserved = self.spend.reserve_now(
                    spend.scope, spend.period, spend.amount_micro, spend.budget_micro
                ).reserved_micro
        return Admission(
            not refused,
            plan,
            self.backend,
            rate=decision,
            refused=refused,
            spent_micro=spent,
            reserved_micro=reserved,
        )

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        return await self.spend.seed(scope, period, spent_micro)

    def settle(self, admission: Admission, actual_tokens: int, actual_micro: int) -> None:
        if admission.settled or not admission.allowed:
            return
        admission.settled = True
        plan = admission.plan
        if admission.rate is not None and admission.rate.reservation is not None:
            self.rate.settle_now(admission.rate.reservation, actual_tokens)
        if plan.lease is not None:
            self.concurrency.release_now(plan.lease.scope, plan.lease.lease_id)
        if plan.spend is not None:
            spend = plan.spend
            self.spend.settle_now(spend.scope, spend.period, spend.amount_micro, actual_micro)

    def release_interrupted(self, plan: AdmitPlan) -> None:
        """Nothing to do: an in-process admit cannot be interrupted half-way."""

    async def drain(self, timeout_s: float = 5.0) -> None:
        return None
