"""The RequestLimiter on Redis, with the policies of `fallback.py` while Redis is unreachable.

An outage is reported through the guard of the first kind of limit the plan holds
(`AdmitPlan.kind`: "rate_limit", "concurrency", then "spend"), and so is a settlement's. Under
the "open" policy the request is admitted by the in-process limiter (the same local stores the
single-limit fallbacks use); a plan with a budget is refused instead while budgets are "closed"
(the default). A call that was only slow on every try is refused as unavailable under either
policy, as in `fallback.py`."""

from __future__ import annotations

import secrets
from dataclasses import replace
from functools import partial

from switchboard.limits.admission import Admission, AdmitPlan
from switchboard.limits.admission_memory import MemoryRequestLimiter
from switchboard.limits.admission_redis import RedisRequestLimiter
from switchboard.limits.fallback import FallbackSpendLedger, Policy
from switchboard.stores.guard import Down, StoreGuard


class FallbackRequestLimiter:
    def __init__(
        self,
        shared: RedisRequestLimiter,
        local: MemoryRequestLimiter,
        guards: dict[str, StoreGuard],
        policy: Policy,
        spend: FallbackSpendLedger,
    ) -> None:
        self._shared, self._local, self._guards = shared, local, guards
        self._policy = policy
        self._spend = spend  # its last-known figures and its seeding, shared with this limiter

    async def admit(self, plan: AdmitPlan) -> Admission:
        if not plan.once:
            plan = replace(plan, once=secrets.token_hex(8))
        kind = plan.kind
        got = await self._guards[kind].call(partial(self._shared.admit, plan), idempotent=True)
        if not isinstance(got, Down):
            if plan.spend is not None and got.seeded:
                self._spend.remember(plan.spend.scope, plan.spend.period, got.spent_micro)
            return got
        budget_closed = plan.spend is not None and self._spend.policy == "closed"
        limits_closed = (plan.rates or plan.lease is not None) and self._policy == "closed"
        if not got.outage or budget_closed or limits_closed:
            unavailable = "spend" if budget_closed else kind
            return Admission(False, plan, self._shared.backend, unavailable=unavailable)
        if plan.spend is not None:
            self._spend.raise_local(plan.spend.scope, plan.spend.period)
        return self._local.admit_now(plan)

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        return await self._spend.seed(scope, period, spent_micro)

    def settle(self, admission: Admission, actual_tokens: int, actual_micro: int) -> None:
        if admission.backend != self._local.backend:
            self._shared.settle(admission, actual_tokens, actual_micro)
            return
        if not admission.settled and admission.allowed:
            self._shared.settle_spend_only(admission.plan, actual_micro)
        self._local.settle(admission, actual_tokens, actual_micro)

    def release_interrupted(self, plan: AdmitPlan) -> None:
        self._shared.release_interrupted(plan)

    async def drain(self, timeout_s: float = 5.0) -> None:
        await self._shared.drain(timeout_s)
