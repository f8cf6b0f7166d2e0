"""Cost of a request from its usage and the deployment's price table (USD per 1M tokens)."""

from __future__ import annotations

import math

from switchboard.catalogue import Price
from switchboard.domain import Usage


def cost_usd(usage: Usage, price: Price) -> float:
    """Prompt tokens split three ways: fresh input, cache reads (`cached_input` rate) and cache
    writes (`cache_write_input` rate); both cache rates default to the input rate."""
    return cost_micro_exact(usage, price) / 1_000_000


def cost_micro_exact(usage: Usage, price: Price) -> float:
    """Cost in micro-dollars (USD per 1M tokens x tokens), before rounding."""
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    written = min(usage.cache_write_tokens, usage.prompt_tokens - cached)
    fresh = usage.prompt_tokens - cached - written
    read_rate = price.cached_input if price.cached_input is not None else price.input
    write_rate = price.cache_write_input if price.cache_write_input is not None else price.input
    return (
        fresh * price.input
        + cached * read_rate
        + written * write_rate
        + usage.completion_tokens * price.output
    )


def cost_micro(usage: Usage, price: Price) -> int:
    """Whole micro-dollars, rounded up, for budgets (never under-charge)."""
    return math.ceil(cost_micro_exact(usage, price) - 1e-9)
