"""Record stage: emit one RequestFinished event per request (metrics, usage, cost and the
request log subscribe), and carry the request's trace to the upstream attempts."""

from __future__ import annotations

import asyncio
import time

from switchboard.domain import ChatResponse, ChunkStream, EmbeddingResponse, Reply
from switchboard.errors import BudgetExceeded, RateLimited, SwitchboardError
from switchboard.observability.events import EventBus, RequestFinished
from switchboard.observability.request_log import RequestLog
from switchboard.observability.trace import (
    RequestTrace,
    TraceParent,
    current_request,
    incoming_trace,
)
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.pricing import cost_usd

CLIENT_CLOSED = 499  # nginx's convention for "the client went away"


def limit_kind(ctx: RequestContext, exc: SwitchboardError) -> str | None:
    """Which of the key's limits refused the request, if one did."""
    if isinstance(exc, BudgetExceeded):
        return "budget"
    if not isinstance(exc, RateLimited):
        return None
    if exc.code == "concurrency_limit_exceeded":
        return "concurrency"
    decision = ctx.ratelimit
    if decision is not None and decision.remaining_requests == 0:
        return "rpm"
    return "tpm" if decision is not None and decision.limit_tokens is not None else "rpm"


def _open_trace(ctx: RequestContext) -> RequestTrace:
    """A span of the caller's trace (or of the request this call is made for), else a new one."""
    outer = current_request.get()
    parent = outer.span if outer is not None else incoming_trace.get()
    span = parent.child() if parent is not None else TraceParent.new()
    return RequestTrace(ctx.request_id, span)


class RecordStage:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        bus.subscribe(RequestLog())

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        ctx.recorded = True
        ctx.trace = _open_trace(ctx)
        token = current_request.set(ctx.trace)
        self._bus.started(ctx.endpoint)
        try:
            reply = await call_next(ctx)
        except SwitchboardError as exc:
            self._publish(ctx, exc.status, exc.code or exc.type, limit=limit_kind(ctx, exc))
            raise
        except asyncio.CancelledError:
            self._publish(ctx, CLIENT_CLOSED, "cancelled")
            raise
        except BaseException:
            self._publish(ctx, 500, "internal_error")
            raise
        finally:
            current_request.reset(token)
        if isinstance(reply, ChatResponse | EmbeddingResponse):
            self._publish(ctx, 200, "ok")
            return reply
        return self._observe(ctx, reply)

    async def _observe(self, ctx: RequestContext, stream: ChunkStream) -> ChunkStream:
        status, outcome = 200, "ok"
        try:
            async for chunk in stream:
                yield chunk
        except SwitchboardError as exc:
            status, outcome = exc.status, exc.code or exc.type
            raise
        except (asyncio.CancelledError, GeneratorExit):
            status, outcome = CLIENT_CLOSED, "cancelled"
            raise
        except BaseException:
            status, outcome = 500, "internal_error"
            raise
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # the accountant sets usage
            truncated = status not in (200, CLIENT_CLOSED) and ctx.first_token_at is not None
            self._publish(ctx, status, outcome, truncated=truncated)

    def _publish(
        self,
        ctx: RequestContext,
        status: int,
        outcome: str,
        *,
        truncated: bool = False,
        limit: str | None = None,
    ) -> None:
        now = time.perf_counter()
        usage = ctx.usage
        deployment = ctx.deployment
        price = deployment.price if deployment is not None else None
        trace = ctx.trace
        cache = ctx.cache
        hit = cache is not None and cache.hit
        saved = cache.saved if cache is not None and cache.saved is not None else None
        self._bus.finished(
            RequestFinished(
                request_id=ctx.request_id,
                endpoint=ctx.endpoint,
                # an unrouted name is client text: keep it out of metric labels
                model=ctx.model if deployment is not None or hit else "unknown",
                deployment=deployment.id if deployment is not None else None,
                status=status,
                outcome=outcome,
                stream=ctx.is_stream,
                usage=usage,
                usage_estimated=ctx.usage_estimated,
                cost_usd=cost_usd(usage, price) if usage is not None and price else 0.0,
                latency_s=now - ctx.started,
                ttft_s=(ctx.first_token_at - ctx.started) if ctx.first_token_at else None,
                overhead_s=ctx.overhead_ms(now) / 1000.0,
                attempts=ctx.attempts,
                truncated=truncated,
                key_id=ctx.key.id if ctx.key is not None else None,
                tenant=ctx.key.tenant if ctx.key is not None else None,
                provider=deployment.provider if deployment is not None else None,
                tier=ctx.tier,
                requested_model=ctx.model,
                retries=trace.retries if trace is not None else 0,
                failovers=trace.failovers if trace is not None else 0,
                limit=limit,
                trace_id=trace.span.trace_id if trace is not None else None,
                cache=cache.outcome if cache is not None else None,
                saved_tokens=saved.total_tokens if saved is not None else 0,
                saved_usd=cache.saved_usd if cache is not None else 0.0,
            )
        )
