"""Cost of a request from its usage and the deployment's price table (USD per 1M tokens)."""

from __future__ import annotations

from switchboard.config import Price
from switchboard.domain import Usage


def cost_usd(usage: Usage, price: Price) -> float:
    """Cached prompt tokens bill at `cached_input` where set; cache writes bill as input."""
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    fresh = usage.prompt_tokens - cached
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    micro = fresh * price.input + cached * cached_rate + usage.completion_tokens * price.output
    return micro / 1_000_000
