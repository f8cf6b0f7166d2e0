"""The Redis RequestLimiter: one script call admits a request, settlements go out in batches.

The keys are those of the single-limit stores (`redis.py`), so both see the same windows, leases
and accounts: `rl:<scope>`, `cc:<scope>`, `sp:<scope>:<period>` (and `:holds`) under the prefix.
On Redis Cluster every key of one script call must share a slot: give the prefix a hash tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from switchboard.limits.admission import Admission, AdmitPlan, Refusal
from switchboard.limits.redis import (
    HOLD_TTL_S,
    KEY_TTL_MS,
    MAX_LEASE_MS,
    ONCE_TTL_MS,
    RedisSpendLedger,
    bounded_int,
    clock_arg,
    limit_arg,
    micro_arg,
    once_key,
    rate_decision,
    redis_script,
    tokens_arg,
)
from switchboard.limits.settle_queue import SettleFailure, SettleQueue
from switchboard.limits.types import MAX_TOKENS, WINDOW_S, merge_limits, period_ttl_s
from switchboard.stores.guard import StoreGuard

DONE_TTL_MS = 600_000  # how long a written batch's id is kept, so a resent batch is applied once


class RedisRequestLimiter:
    backend = "redis"

    def __init__(
        self,
        client: Redis,
        prefix: str,
        *,
        settle_guards: Mapping[str, StoreGuard] | None = None,
        on_settle_failure: SettleFailure | None = None,
        hold_ttl_s: int = HOLD_TTL_S,
    ) -> None:
        self._prefix = prefix
        self._hold_ttl_s = hold_ttl_s
        self._admit = redis_script(client, "admit")
        self._settle_batch = redis_script(client, "settle_batch")
        self._ledger = RedisSpendLedger(client, prefix, hold_ttl_s)
        self.queue = SettleQueue(self._write, settle_guards, on_settle_failure)

    async def admit(self, plan: AdmitPlan) -> Admission:
        merged = merge_limits(plan.rates)
        tokens = tokens_arg(plan.tokens)
        once = plan.once
        keys = [once_key(self._prefix, "ad", once), *(self._rate_key(m.scope) for m in merged)]
        args: list[Any] = [
            clock_arg(plan.now), tokens, WINDOW_S, KEY_TTL_MS, ONCE_TTL_MS, len(merged)
        ]  # fmt: skip
        lease, spend = plan.lease, plan.spend
        if lease is not None:
            keys.append(f"{self._prefix}cc:{lease.scope}")
            ttl = repr(float(bounded_int(lease.ttl_s * 1000, MAX_LEASE_MS, 1)) / 1000)
            args += [bounded_int(lease.limit, MAX_TOKENS), lease.lease_id, ttl]
        else:
            args += [-1, "", 0]
        hold = ""
        if spend is not None:
            account = self._account_key(spend.scope, spend.period)
            keys += [account, account + ":holds"]
            hold = once
            args += [
                micro_arg(spend.amount_micro),
                micro_arg(spend.budget_micro),
                period_ttl_s(spend.period) or 0,
                hold,
                self._hold_ttl_s,
            ]
        else:
            args += [-1, 0, 0, "", 0]
        for limit in merged:
            args += [limit_arg(limit.rpm), limit_arg(limit.tpm)]
        reply = await self._admit(keys=keys, args=args)
        allowed, sec, now_ms, seeded, spend_ok, spent, reserved, lease_ok, rate_ok = reply[:9]
        if not seeded:
            return Admission(False, plan, self.backend, seeded=False)
        clock = plan.now if plan.now is not None else now_ms / 1000
        decision = (
            rate_decision(merged, tokens, bool(allowed), int(sec), clock, reply[9:])
            if merged
            else None
        )
        refused: Refusal = (
            "" if allowed else "spend" if not spend_ok else "rate" if not rate_ok else "lease"
        )
        if not lease_ok and not refused:
            refused = "lease"
        return Admission(
            bool(allowed),
            plan,
            self.backend,
            rate=decision,
            refused=refused,
            spent_micro=int(spent),
            reserved_micro=int(reserved),
            hold=hold if allowed else "",
        )

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        return await self._ledger.seed(scope, period, spent_micro)

    def settle(self, admission: Admission, actual_tokens: int, actual_micro: int) -> None:
        """Queue the settlement; the queue's task writes it with others (`lua/settle_batch`)."""
        if admission.settled or not admission.allowed:
            return
        admission.settled = True
        reservation = admission.rate.reservation if admission.rate is not None else None
        scopes: tuple[str, ...] = ()
        second, delta = 0, 0
        if reservation is not None and not reservation.settled:
            reservation.settled = True
            scopes, second = reservation.scopes, reservation.second
            delta = tokens_arg(actual_tokens) - tokens_arg(reservation.tokens)
        self._queue(admission.plan, scopes, second, delta, admission.hold, actual_micro)

    def release_interrupted(self, plan: AdmitPlan) -> None:
        """An admit interrupted in flight may have reserved: release its lease and budget hold
        (both by id, so nothing else is touched); its rate count stays, which is conservative."""
        self._queue(plan, (), 0, 0, plan.once if plan.spend is not None else "", 0)

    def settle_spend_only(self, plan: AdmitPlan, actual_micro: int) -> None:
        """Record spend that a local (fallback) admission made, so the shared account knows it."""
        if plan.spend is not None and actual_micro:
            bare = AdmitPlan(spend=plan.spend, once=plan.once)
            self._queue(bare, (), 0, 0, "", actual_micro, release=0)

    def _queue(
        self,
        plan: AdmitPlan,
        scopes: tuple[str, ...],
        second: int,
        delta: int,
        hold: str,
        actual_micro: int,
        release: int | None = None,
    ) -> None:
        keys = [self._rate_key(scope) for scope in scopes]
        args: list[Any] = [len(scopes), second, delta]
        lease, spend = plan.lease, plan.spend
        if lease is not None:
            keys.append(f"{self._prefix}cc:{lease.scope}")
            args += [1, lease.lease_id]
        else:
            args += [0, ""]
        if spend is not None:
            account = self._account_key(spend.scope, spend.period)
            keys += [account, account + ":holds"]
            amount = spend.amount_micro if release is None else release
            ttl = period_ttl_s(spend.period) or 0
            args += [1, micro_arg(amount), micro_arg(actual_micro), ttl, hold]
        else:
            args += [0, 0, 0, 0, ""]
        self.queue.put(keys, args, plan.kind)

    async def _write(self, batch_id: str, keys: list[str], args: list[Any]) -> object:
        done = once_key(self._prefix, "st", batch_id)
        return await self._settle_batch(keys=[done, *keys], args=[DONE_TTL_MS, *args])

    async def drain(self, timeout_s: float = 5.0) -> None:
        await self.queue.drain(timeout_s)

    def _rate_key(self, scope: str) -> str:
        return f"{self._prefix}rl:{scope}"

    def _account_key(self, scope: str, period: str) -> str:
        return f"{self._prefix}sp:{scope}:{period}"
