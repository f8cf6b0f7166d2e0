"""The Stage protocol: one async call that may answer early or wrap what comes back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from switchboard.domain import Reply
from switchboard.pipeline.context import RequestContext

Next = Callable[[RequestContext], Awaitable[Reply]]


class Stage(Protocol):
    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        """Handle the request: call `call_next(ctx)` to continue, or return a reply early."""
