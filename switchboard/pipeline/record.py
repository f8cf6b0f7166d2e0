"""Record stage: emit one RequestFinished event per request (metrics, usage, cost and the
request log subscribe), and carry the request's trace to the upstream attempts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace

from switchboard.domain import ChatRequest, ChatResponse, ChunkStream, EmbeddingResponse, Reply
from switchboard.errors import BudgetExceeded, RateLimited, SwitchboardError
from switchboard.observability.events import EventBus, RequestFinished
from switchboard.observability.genai import genai_operation, genai_provider
from switchboard.observability.request_log import RequestLog
from switchboard.observability.spans import Tracing, UpstreamSpans, end_failed, traceparent_of
from switchboard.observability.trace import (
    CallerTags,
    RequestTrace,
    TraceParent,
    current_request,
    incoming_caller,
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


def _caller(ctx: RequestContext, outer: RequestTrace | None) -> CallerTags | None:
    """The caller's session/user/trace tags: headers first, then the body's metadata."""
    if outer is not None:
        return outer.caller  # an internal call made for a request keeps that request's tags
    headers = incoming_caller.get()
    body = (
        CallerTags.from_body(ctx.request.params) if isinstance(ctx.request, ChatRequest) else None
    )
    return headers.over(body) if headers is not None else body


def _open_trace(ctx: RequestContext, tracing: Tracing | None) -> RequestTrace:
    """A span of the caller's trace (or of the request this call is made for), else a new one;
    with tracing on, the request's OpenTelemetry span, whose ids the upstream then sees."""
    outer = current_request.get()
    parent = outer.span if outer is not None else incoming_trace.get()
    caller = _caller(ctx, outer)
    if tracing is None:
        span = parent.child() if parent is not None else TraceParent.new()
        return RequestTrace(ctx.request_id, span, caller=caller)
    otel = tracing.start_request(ctx.endpoint, ctx.model, parent, caller)
    otel.set_attribute("switchboard.request_id", ctx.request_id)
    trail = RequestTrace(ctx.request_id, traceparent_of(otel), caller=caller, otel=otel)
    trail.spans = UpstreamSpans(tracing, lambda deployment: _attempt_attributes(ctx, deployment))
    return trail


def _attempt_attributes(ctx: RequestContext, deployment: str) -> dict[str, Any]:
    dep = ctx.deployment
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": genai_operation(ctx.endpoint),
        "gen_ai.request.model": dep.model if dep is not None else ctx.model,
        "switchboard.deployment": deployment,
    }
    if dep is not None:
        attributes["gen_ai.provider.name"] = genai_provider(dep.provider)
    return attributes


class RecordStage:
    def __init__(self, bus: EventBus, tracing: Tracing | None = None) -> None:
        self._bus = bus
        self._tracing = tracing
        bus.subscribe(RequestLog())

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        ctx.recorded = True
        ctx.trace = _open_trace(ctx, self._tracing)
        token = current_request.set(ctx.trace)
        span = ctx.trace.otel
        attached = None
        if span is not None:
            attached = otel_context.attach(otel_trace.set_span_in_context(span))
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
            if attached is not None:
                otel_context.detach(attached)
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
        if trace is not None and trace.otel is not None:
            _end_spans(ctx, trace, status, outcome)
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
                caller=trace.caller if trace is not None else None,
                response_model=deployment.model if deployment is not None else None,
            )
        )


def _end_spans(ctx: RequestContext, trace: RequestTrace, status: int, outcome: str) -> None:
    """End the last attempt's span and the request's, with usage, response model and status."""
    attributes: dict[str, Any] = {"http.response.status_code": status}
    if ctx.deployment is not None:
        attributes["gen_ai.response.model"] = ctx.deployment.model
        attributes["switchboard.deployment"] = ctx.deployment.id
        attributes["gen_ai.provider.name"] = genai_provider(ctx.deployment.provider)
    if ctx.usage is not None:
        attributes["gen_ai.usage.input_tokens"] = ctx.usage.prompt_tokens
        attributes["gen_ai.usage.output_tokens"] = ctx.usage.completion_tokens
    if trace.spans is not None and status < 400:
        trace.spans.finish(attributes)
    elif trace.spans is not None:
        trace.spans.failed(outcome, None)
    span = trace.otel
    assert span is not None
    span.set_attributes(attributes)
    if status >= 500 or status == CLIENT_CLOSED:
        end_failed(span, outcome)
    else:
        if status >= 400:
            span.set_attribute("error.type", outcome)
        span.end()
