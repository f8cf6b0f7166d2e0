"""Thinking from translated providers (Anthropic, Bedrock) in the OpenAI shape, and the request
side: OpenAI's `reasoning_effort` as a thinking budget.

The text becomes `reasoning_content` (as DeepSeek, vLLM and LiteLLM spell it); the blocks,
with the signatures a follow-up turn needs and any redacted thinking, are kept whole in
`thinking_blocks` (LiteLLM's name), which OpenAI's shape has no place for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.errors import InvalidRequest

EFFORT_BUDGETS: Mapping[str, int] = {"low": 1024, "medium": 4096, "high": 16384}
"""Thinking tokens for each `reasoning_effort` (Anthropic's minimum budget is 1024)."""
MIN_BUDGET = 1024


def reasoning_extra(texts: list[str], blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A message's (or delta's) reasoning fields; None when there was no thinking."""
    if not blocks and not texts:
        return None
    extra: dict[str, Any] = {"reasoning_content": "".join(texts)}
    if blocks:
        extra["thinking_blocks"] = blocks
    return extra


def thinking_config(params: Mapping[str, Any], max_tokens: int) -> dict[str, Any] | None:
    """Anthropic's `thinking` for a request: as the client sent it (Anthropic's own field), or
    from `reasoning_effort`, within the reply cap (thinking counts against it, as OpenAI's
    reasoning tokens count against max_completion_tokens)."""
    given = params.get("thinking")
    if isinstance(given, Mapping):
        return dict(given)
    effort = params.get("reasoning_effort")
    if effort is None or effort in ("none", "minimal"):
        return None
    budget = EFFORT_BUDGETS.get(str(effort))
    if budget is None:
        raise InvalidRequest(
            f"reasoning_effort must be one of none, minimal, {', '.join(EFFORT_BUDGETS)}",
            param="reasoning_effort",
        )
    budget = min(budget, max_tokens - 1)
    if budget < MIN_BUDGET:
        raise InvalidRequest(
            f"reasoning_effort needs max_tokens above {MIN_BUDGET} on this model "
            "(thinking counts against it)",
            param="reasoning_effort",
        )
    return {"type": "enabled", "budget_tokens": budget}
