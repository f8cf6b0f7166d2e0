"""The chains of stages, read top to bottom in the order a request passes them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from switchboard.domain import Reply
from switchboard.observability.spans import TracedStage, Tracing
from switchboard.pipeline.account import AccountStage
from switchboard.pipeline.auth import AuthStage
from switchboard.pipeline.cache import CacheStage
from switchboard.pipeline.call import CallStage
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.limits import LimitsStage
from switchboard.pipeline.memory import MemoryStage
from switchboard.pipeline.optimize import OptimizeStage
from switchboard.pipeline.record import RecordStage
from switchboard.pipeline.route import RouteStage
from switchboard.pipeline.stage import Next, Stage


async def _end_of_chain(ctx: RequestContext) -> Reply:
    raise RuntimeError("the pipeline ended without a stage answering")


def chain(stages: list[Stage | None], tracing: Tracing | None = None) -> Next:
    """Wrap the stages around each other, the first in the list outermost (like Starlette);
    a None is a stage switched off by configuration. With tracing on, each stage after the
    record stage (whose span is the request's) runs in a span of its own."""
    handler: Next = _end_of_chain
    for stage in reversed([s for s in stages if s is not None]):
        if tracing is not None and not isinstance(stage, RecordStage):
            stage = TracedStage(stage, tracing.tracer)
        handler = partial(stage, call_next=handler)
    return handler


@dataclass
class Stages:
    record: RecordStage
    auth: AuthStage | None  # None: API keys are off
    memory: MemoryStage
    limits: LimitsStage | None
    route: RouteStage
    account: AccountStage
    call: CallStage
    cache: CacheStage | None = None  # None: no model caches
    optimize: OptimizeStage | None = None  # None: no model optimizes its requests
    tracing: Tracing | None = None  # OpenTelemetry spans per stage; None: tracing is off


def build_pipeline(s: Stages) -> Next:
    """Every way in (JSON, SSE, the simple API, each WebSocket message, a worker's job)."""
    return chain(
        [
            s.record,  # one RequestFinished event: metrics, usage and cost, errors included
            s.auth,  # credential -> ctx.key, model permission (401 / 403)
            s.memory,  # a stored conversation's history in, the finished exchange out
            s.limits,  # budget, rpm/tpm, concurrency: reserved now, settled at the end (402/429)
            s.cache,  # a stored reply (exact, then semantic), or keep the complete one
            s.optimize,  # trim context to the model's token budget; adaptive max_tokens
            s.route,  # model name (-> complexity tier) -> ordered deployment plan
            s.account,  # the one accountant: ctx.usage, ctx.reply, first-token time
            s.call,  # try the plan with retries and failover
        ],
        s.tracing,
    )


def build_internal_pipeline(s: Stages) -> Next:
    """The gateway's own calls (pipeline/internal.py): no key, no memory, no key limits."""
    return chain([s.record, s.route, s.account, s.call], s.tracing)
