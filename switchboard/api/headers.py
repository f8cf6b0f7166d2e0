"""The response headers that say what the pipeline decided, rendered from the context's typed
fields: who served (`x-switchboard-deployment`, attempts, tier), OpenAI's `x-ratelimit-*`,
whether the reply came from the cache (`x-switchboard-cache`, `x-switchboard-cache-similarity`)
and what the token optimizer did (`x-switchboard-trimmed-tokens`, `-trimmed-messages`,
`-max-tokens`)."""

from __future__ import annotations

import math

from switchboard.limits.types import Decision
from switchboard.pipeline.context import RequestContext


def duration(seconds: float) -> str:
    """OpenAI's reset format: `250ms`, `12s`, `1m30s`."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def ratelimit_headers(decision: Decision) -> dict[str, str]:
    headers: dict[str, str] = {}
    if decision.limit_requests is not None:
        headers["x-ratelimit-limit-requests"] = str(decision.limit_requests)
        headers["x-ratelimit-remaining-requests"] = str(decision.remaining_requests or 0)
        headers["x-ratelimit-reset-requests"] = duration(decision.reset_requests_s or 0.0)
    if decision.limit_tokens is not None:
        headers["x-ratelimit-limit-tokens"] = str(decision.limit_tokens)
        headers["x-ratelimit-remaining-tokens"] = str(decision.remaining_tokens or 0)
        headers["x-ratelimit-reset-tokens"] = duration(decision.reset_tokens_s or 0.0)
    if not decision.allowed:
        headers["retry-after"] = str(max(1, math.ceil(decision.retry_after_s)))
    return headers


def context_headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    """Raw header pairs (lower-case names) for what this request's stages decided."""
    out: list[tuple[bytes, bytes]] = []
    if ctx.attempts and ctx.deployment is not None:
        out.append((b"x-switchboard-deployment", ctx.deployment.id.encode("latin-1")))
        out.append((b"x-switchboard-attempts", str(ctx.attempts).encode()))
    if ctx.dropped_params:
        out.append((b"x-switchboard-dropped-params", ",".join(ctx.dropped_params).encode()))
    if ctx.tier is not None:
        out.append((b"x-switchboard-tier", ctx.tier.encode()))
    if ctx.ratelimit is not None:
        for name, value in ratelimit_headers(ctx.ratelimit).items():
            out.append((name.encode(), value.encode("latin-1")))
    cache = ctx.cache
    if cache is not None and cache.outcome is not None:
        out.append((b"x-switchboard-cache", cache.outcome.encode()))
        if cache.key is not None:
            out.append((b"x-switchboard-cache-key", cache.key.encode()))
        if cache.similarity is not None:
            out.append((b"x-switchboard-cache-similarity", f"{cache.similarity:.4f}".encode()))
    optimized = ctx.optimized
    if optimized is not None:
        out.append((b"x-switchboard-trimmed-tokens", str(optimized.trimmed_tokens).encode()))
        out.append((b"x-switchboard-trimmed-messages", str(optimized.messages_dropped).encode()))
        if optimized.max_tokens is not None:
            out.append((b"x-switchboard-max-tokens", str(optimized.max_tokens).encode()))
    return out
