"""Values that cross the limits boundary, and the window arithmetic both backends share.

Rate windows slide over `WINDOW_S` seconds in 1-second buckets: at time t the usage is the sum of
the buckets for seconds in (floor(t) - WINDOW_S, floor(t)]. A bucket for second s therefore stops
counting at time s + WINDOW_S.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

WINDOW_S: Final = 60
# The largest count the Redis scripts take: tokens per request (a window's sum of many stays
# exactly representable in Lua's doubles), and micro-dollars (2**53 - 1, about $9 billion).
MAX_TOKENS: Final = 10**12
MAX_MICRO: Final = 2**53 - 1
DAY_S: Final = 86_400
_PERIOD_TTL_S: Final[Mapping[str, int]] = MappingProxyType(
    {"d": 3 * DAY_S, "w": 10 * DAY_S, "m": 40 * DAY_S}
)


@dataclass(frozen=True, slots=True)
class Limit:
    """Requests and tokens per minute for one scope ("key:abc", "tenant:t1"); None = unlimited."""

    scope: str
    rpm: int | None = None
    tpm: int | None = None


@dataclass(slots=True)
class Reservation:
    """What a granted reserve counted, so that `settle` can correct the token count later.

    `backend` names the store that holds the counts ("memory" or "redis"); `settled` is flipped by
    the first successful settle so that a second settle of the same object is a no-op.
    """

    scopes: tuple[str, ...]
    second: int
    tokens: int
    backend: str
    settled: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a reserve, with x-ratelimit-* figures of the most constraining limits.

    `unavailable` is True only when the shared store is down and the policy is "closed": the
    request was refused for lack of a store rather than for its usage (503 rather than 429).
    """

    allowed: bool
    reservation: Reservation | None
    retry_after_s: float
    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests_s: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens_s: float | None = None
    unavailable: bool = False


@dataclass(frozen=True, slots=True)
class SpendDecision:
    """The answer to a spend reserve; amounts in integer micro-dollars, after the operation.

    `seeded` is False when the ledger holds no database baseline for this (scope, period): first
    use, or the shared store lost its data. Call `seed` with the database figure then.
    `hold` names what an allowed reserve holds in a shared ledger (where it expires if never
    settled); pass it to `settle` ("" when the ledger keeps no holds).
    """

    allowed: bool
    spent_micro: int
    reserved_micro: int
    seeded: bool = True
    unavailable: bool = False
    hold: str = ""


@dataclass(frozen=True, slots=True)
class WindowUsage:
    """One limit's usage in the current window (after counting this request, if admitted)."""

    limit: Limit
    requests: int
    tokens: int
    newest_second: int | None


def merge_limits(limits: Sequence[Limit]) -> list[Limit]:
    """One limit per scope (the tighter of duplicates), so a scope is never counted twice."""
    merged: dict[str, Limit] = {}
    for limit in limits:
        if limit.scope in merged:
            seen = merged[limit.scope]
            limit = Limit(limit.scope, _tighter(seen.rpm, limit.rpm), _tighter(seen.tpm, limit.tpm))
        merged[limit.scope] = limit
    return list(merged.values())


def _tighter(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def wait_until_fits(
    buckets: Sequence[tuple[int, int]], used: int, cost: int, cap: int, now: float
) -> float:
    """Seconds until enough of `buckets` (second, amount) leave the window for `cost` to fit."""
    if cost > cap:
        return float(WINDOW_S)
    need = used + cost - cap
    if need <= 0:
        return 0.0
    freed = 0
    for second, amount in sorted(buckets):
        freed += amount
        if freed >= need:
            return second + WINDOW_S - now
    return float(WINDOW_S)


def build_decision(
    usages: Sequence[WindowUsage],
    allowed: bool,
    reservation: Reservation | None,
    retry_after_s: float,
    now: float,
) -> Decision:
    """Fill the header figures from the limit with the fewest requests / tokens remaining."""
    req = min(
        (u for u in usages if u.limit.rpm is not None),
        key=lambda u: _remaining(u.limit.rpm, u.requests),
        default=None,
    )
    tok = min(
        (u for u in usages if u.limit.tpm is not None),
        key=lambda u: _remaining(u.limit.tpm, u.tokens),
        default=None,
    )
    return Decision(
        allowed=allowed,
        reservation=reservation,
        retry_after_s=0.0 if allowed else max(retry_after_s, 0.001),
        limit_requests=req.limit.rpm if req else None,
        remaining_requests=_remaining(req.limit.rpm, req.requests) if req else None,
        reset_requests_s=_reset(req, now) if req else None,
        limit_tokens=tok.limit.tpm if tok else None,
        remaining_tokens=_remaining(tok.limit.tpm, tok.tokens) if tok else None,
        reset_tokens_s=_reset(tok, now) if tok else None,
    )


def _remaining(cap: int | None, used: int) -> int:
    return max(0, (cap or 0) - used)


def _reset(usage: WindowUsage, now: float) -> float:
    """Seconds until the window is empty again (OpenAI's "resets to its initial state")."""
    if usage.newest_second is None:
        return 0.0
    return max(0.0, usage.newest_second + WINDOW_S - now)


def bounded_int(value: float, bound: int, floor: int = 0) -> int:
    """`value` as an integer in [floor, bound], rounded up (NaN counts as `bound`).

    What goes to a Redis script is always an int, never a float whose text ("1e+17") the
    script or HINCRBY would reject.
    """
    if value != value or value >= bound:
        return bound
    if value <= floor:
        return floor
    return math.ceil(value)


def period_ttl_s(period: str) -> int | None:
    """How long a spend period's counters live: "total" forever, "d:" 3 days, "m:" 40 days."""
    if period == "total":
        return None
    ttl = _PERIOD_TTL_S.get(period.split(":", 1)[0])
    if ttl is None or ":" not in period:
        raise ValueError(f"unknown spend period {period!r}; use total, d:..., w:... or m:...")
    return ttl
