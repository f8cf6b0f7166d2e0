"""The chain of stages, read top to bottom in the order a request passes them."""

from __future__ import annotations

from functools import partial

from switchboard.domain import Reply
from switchboard.pipeline.call import CallStage
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.record import RecordStage
from switchboard.pipeline.route import RouteStage
from switchboard.pipeline.stage import Next, Stage


async def _end_of_chain(ctx: RequestContext) -> Reply:
    raise RuntimeError("the pipeline ended without a stage answering")


def chain(stages: list[Stage]) -> Next:
    """Wrap the stages around each other, the first in the list outermost (like Starlette)."""
    handler: Next = _end_of_chain
    for stage in reversed(stages):
        handler = partial(stage, call_next=handler)
    return handler


def build_pipeline(
    *, record: RecordStage, access: list[Stage], route: RouteStage, call: CallStage
) -> Next:
    """`access` is [AuthStage, LimitsStage] when API keys are required, else empty."""
    return chain(
        [
            record,  # metrics, usage and cost for everything below, errors included
            *access,  # auth: API key -> ctx.key (401 / 403); limits: budget, rpm/tpm,
            #           concurrency reserved now and settled at the end (402 / 429)
            # the cache stage slots in here
            route,  # model name (-> complexity tier) -> ordered deployment plan
            call,  # try the plan with retries and failover
        ]
    )
