"""Rate limits, concurrency slots and spend budgets, in-process or shared through Redis.

Names are loaded on first use, so a gateway that limits nothing never imports redis.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ConcurrencyLimiter": "base",
    "RateLimiter": "base",
    "SpendLedger": "base",
    "Decision": "types",
    "Limit": "types",
    "Reservation": "types",
    "SpendDecision": "types",
    "period_ttl_s": "types",
    "MemoryConcurrencyLimiter": "memory",
    "MemoryRateLimiter": "memory",
    "MemorySpendLedger": "memory",
    "RedisConcurrencyLimiter": "redis",
    "RedisRateLimiter": "redis",
    "RedisSpendLedger": "redis",
    "AdmitPlan": "admission",
    "Admission": "admission",
    "LeasePlan": "admission",
    "RequestLimiter": "admission",
    "SpendPlan": "admission",
    "MemoryRequestLimiter": "admission_memory",
    "RedisRequestLimiter": "admission_redis",
    "FallbackRequestLimiter": "admission_fallback",
    "SettleQueue": "settle_queue",
    "LimitBackends": "backends",
    "build_limit_backends": "backends",
    "connect_redis": "backends",
    "limit_backends": "backends",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'switchboard.limits' has no attribute {name!r}")
    return getattr(importlib.import_module(f"switchboard.limits.{module}"), name)
