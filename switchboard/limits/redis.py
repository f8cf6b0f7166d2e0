"""Redis limit stores: one Lua script call per operation, so counts are exact across replicas.

Every key starts with the given prefix. A reserve touches one hash per scope in a single script, so
on Redis Cluster all of them must share a slot: give the prefix a hash tag, e.g. "{sb}:".
Scripts run by EVALSHA; redis-py's Script object reloads one the server has forgotten (NOSCRIPT).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from switchboard.limits.types import (
    MAX_MICRO,
    MAX_TOKENS,
    WINDOW_S,
    Decision,
    Limit,
    Reservation,
    SpendDecision,
    WindowUsage,
    bounded_int,
    build_decision,
    merge_limits,
    period_ttl_s,
    wait_until_fits,
)

KEY_TTL_MS = (WINDOW_S + 2) * 1000
ONCE_TTL_MS = 60_000  # how long a reserve's answer is kept for a retry of the same call
HOLD_TTL_S = 900  # a budget hold never settled (its replica died) is released after this
MAX_LEASE_MS = 30 * 86_400 * 1000  # a lease lives at most 30 days, however long it asked for


_LIBRARIES = ("common", "window", "account", "lease")


def lua_source(name: str) -> str:
    """A script's text: the shared libraries (`lua/common.lua` and the rest), then its body."""
    folder = resources.files("switchboard.limits").joinpath("lua")
    return "\n".join(folder.joinpath(f"{part}.lua").read_text() for part in (*_LIBRARIES, name))


def redis_script(client: Redis, name: str) -> AsyncScript:
    return client.register_script(lua_source(name))


def limit_arg(value: int | None) -> int:
    return -1 if value is None else bounded_int(value, MAX_TOKENS)


def tokens_arg(value: float) -> int:
    return bounded_int(value, MAX_TOKENS)


def micro_arg(value: float) -> int:
    return bounded_int(value, MAX_MICRO)


def once_key(prefix: str, kind: str, once: str) -> str:
    """The key that keeps a reserve's answer for a retry; `once` "" means a fresh id."""
    return f"{prefix}once:{kind}:{once or secrets.token_hex(8)}"


def clock_arg(now: float | None) -> str:
    """The caller's clock for a script, "" for the server's."""
    return "" if now is None else repr(float(now))


class RedisRateLimiter:
    """Per scope a hash of per-second request and token counts and their running sums.

    The layout is described in lua/rate_reserve.lua; at most 60 seconds of counts are kept.
    """

    backend = "redis"

    def __init__(self, client: Redis, prefix: str) -> None:
        self._prefix = f"{prefix}rl:"
        self._once_prefix = prefix
        self._reserve = redis_script(client, "rate_reserve")
        self._settle = redis_script(client, "rate_settle")

    async def reserve(
        self, limits: Sequence[Limit], tokens: int, now: float | None = None, once: str = ""
    ) -> Decision:
        merged = merge_limits(limits)
        if not merged:
            return Decision(True, Reservation((), 0, tokens, self.backend), 0.0)
        tokens = tokens_arg(tokens)
        args: list[Any] = [clock_arg(now), tokens, WINDOW_S, KEY_TTL_MS]
        for limit in merged:
            args += [limit_arg(limit.rpm), limit_arg(limit.tpm)]
        keys = [
            once_key(self._once_prefix, "rl", once),
            *(self._prefix + limit.scope for limit in merged),
        ]
        allowed, sec, now_ms, *replies = await self._reserve(keys=keys, args=args)
        clock = now if now is not None else now_ms / 1000
        return rate_decision(merged, tokens, bool(allowed), int(sec), clock, replies)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        delta = tokens_arg(actual_tokens) - tokens_arg(reservation.tokens)
        if reservation.settled or not reservation.scopes:
            return
        if delta:
            keys = [self._prefix + scope for scope in reservation.scopes]
            await self._settle(keys=keys, args=[reservation.second, delta])
        reservation.settled = True


def rate_decision(
    merged: Sequence[Limit],
    tokens: int,
    allowed: bool,
    sec: int,
    clock: float,
    replies: Sequence[list[Any]],
) -> Decision:
    """A Decision from a script's per-window replies {requests, tokens, newest, buckets}."""
    usages = [
        WindowUsage(limit, int(r[0]), int(r[1]), None if r[2] < 0 else int(r[2]))
        for limit, r in zip(merged, replies, strict=True)
    ]
    if allowed:
        scopes = tuple(limit.scope for limit in merged)
        reservation = Reservation(scopes, sec, tokens, "redis")
        return build_decision(usages, True, reservation, 0.0, clock)
    retry = max(
        _retry_after(usage, reply[3], tokens, clock)
        for usage, reply in zip(usages, replies, strict=True)
    )
    return build_decision(usages, False, None, retry, clock)


def _retry_after(usage: WindowUsage, flat: list[int], tokens: int, now: float) -> float:
    waits = [0.0]
    seconds = flat[0::3]
    if usage.limit.rpm is not None:
        buckets = list(zip(seconds, flat[1::3], strict=True))
        waits.append(wait_until_fits(buckets, usage.requests, 1, usage.limit.rpm, now))
    if usage.limit.tpm is not None:
        buckets = list(zip(seconds, flat[2::3], strict=True))
        waits.append(wait_until_fits(buckets, usage.tokens, tokens, usage.limit.tpm, now))
    return max(waits)


class RedisConcurrencyLimiter:
    """Per scope a sorted set of lease ids scored by expiry, so a crashed replica's leases lapse."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}cc:"
        self._acquire = redis_script(client, "lease_acquire")

    async def acquire(
        self, scope: str, limit: int, lease_id: str, ttl_s: float = 600, now: float | None = None
    ) -> bool:
        ttl = repr(float(bounded_int(ttl_s * 1000, MAX_LEASE_MS, 1)) / 1000)
        args: list[Any] = [clock_arg(now), bounded_int(limit, MAX_TOKENS), lease_id, ttl]
        return bool(await self._acquire(keys=[self._prefix + scope], args=args))

    async def release(self, scope: str, lease_id: str) -> None:
        await self._client.zrem(self._prefix + scope, lease_id)


class RedisSpendLedger:
    """Per (scope, period) a hash {base: database seed, spent: since, reserved: in flight} and
    the holds that make up `reserved`, each released at `hold_ttl_s` if never settled."""

    def __init__(self, client: Redis, prefix: str, hold_ttl_s: int = HOLD_TTL_S) -> None:
        self._client = client
        self._prefix = f"{prefix}sp:"
        self._once_prefix = prefix
        self._hold_ttl_s = hold_ttl_s
        self._reserve = redis_script(client, "spend_reserve")
        self._settle = redis_script(client, "spend_settle")
        self._seed = redis_script(client, "spend_seed")

    async def reserve(
        self, scope: str, period: str, amount_micro: int, budget_micro: int, once: str = ""
    ) -> SpendDecision:
        hold = once or secrets.token_hex(8)
        ttl = period_ttl_s(period) or 0
        args: list[Any] = [
            micro_arg(amount_micro),
            micro_arg(budget_micro),
            ttl,
            ONCE_TTL_MS,
            hold,
            self._hold_ttl_s,
        ]
        key = self._key(scope, period)
        keys = [key, once_key(self._once_prefix, "sp", hold), key + ":holds"]
        allowed, spent, reserved, seeded = await self._reserve(keys=keys, args=args)
        held = hold if allowed else ""
        return SpendDecision(bool(allowed), int(spent), int(reserved), bool(seeded), hold=held)

    async def settle(
        self, scope: str, period: str, reserved_micro: int, actual_micro: int, hold: str = ""
    ) -> None:
        args: list[Any] = [
            micro_arg(reserved_micro),
            micro_arg(actual_micro),
            period_ttl_s(period) or 0,
            hold,
        ]
        key = self._key(scope, period)
        await self._settle(keys=[key, key + ":holds"], args=args)

    async def spent(self, scope: str, period: str) -> int:
        base, spent = await self._client.hmget(self._key(scope, period), ["base", "spent"])
        return int(base or 0) + int(spent or 0)

    async def seed(self, scope: str, period: str, spent_micro: int) -> bool:
        args = [micro_arg(spent_micro), period_ttl_s(period) or 0]
        return bool(await self._seed(keys=[self._key(scope, period)], args=args))

    def _key(self, scope: str, period: str) -> str:
        return f"{self._prefix}{scope}:{period}"
