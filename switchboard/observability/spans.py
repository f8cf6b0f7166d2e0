"""OpenTelemetry spans: one per request, one per pipeline stage, one per upstream attempt.

Off unless the standard variables ask for it (`OTEL_TRACES_EXPORTER=otlp` or `console`; the OTLP
exporter then reads `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, the sampler
`OTEL_TRACES_SAMPLER`, the batch processor `OTEL_BSP_*`), or unless an embedder hands the app a
TracerProvider. Off, the gateway holds no tracer at all: each place that would trace checks
for None and goes on (bench/overhead measures it). Attributes follow the GenAI semantic
conventions; see docs/observability.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    format_span_id,
    format_trace_id,
)

from switchboard import __version__
from switchboard.observability.genai import genai_operation
from switchboard.observability.trace import CallerTags, TraceParent

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger("switchboard.tracing")


def provider_from_env(environ: Mapping[str, str]) -> TracerProvider | None:
    """A TracerProvider with the exporters `OTEL_TRACES_EXPORTER` names, or None (tracing off)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n and n != "none"]
    if not names:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "switchboard"}))
    provider = TracerProvider(resource=resource)
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            log.warning("OTEL_TRACES_EXPORTER=%s is not supported (otlp, console); ignored", name)
    return provider


def _parent_context(parent: TraceParent | None) -> otel_context.Context | None:
    """The caller's W3C traceparent as the parent of the request span (None: current/root)."""
    current = trace.get_current_span().get_span_context()
    if current.is_valid or parent is None:
        return None  # an internal call: the current span (the outer request's stage) is parent
    remote = SpanContext(
        int(parent.trace_id, 16),
        int(parent.span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(parent.flags, 16)),
    )
    return trace.set_span_in_context(NonRecordingSpan(remote))


def traceparent_of(span: Span) -> TraceParent:
    sc = span.get_span_context()
    flags = "01" if sc.trace_flags.sampled else "00"
    return TraceParent(format_trace_id(sc.trace_id), format_span_id(sc.span_id), flags)


def caller_attributes(caller: CallerTags | None) -> dict[str, str]:
    if caller is None:
        return {}
    out = {}
    if caller.session_id:
        out["session.id"] = caller.session_id
    if caller.user_id:
        out["user.id"] = caller.user_id
    if caller.trace_id:
        out["switchboard.client_trace_id"] = caller.trace_id
    return out


class Tracing:
    """The gateway's tracer and the spans it starts; built only when tracing is on."""

    def __init__(self, provider: TracerProvider, *, owned: bool) -> None:
        self.provider = provider
        self.tracer: Tracer = provider.get_tracer("switchboard", __version__)
        self._owned = owned

    def start_request(
        self, endpoint: str, model: str, parent: TraceParent | None, caller: CallerTags | None
    ) -> Span:
        operation = genai_operation(endpoint)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.request.model": model[:200],
            "switchboard.endpoint": endpoint,
            **caller_attributes(caller),
        }
        return self.tracer.start_span(
            f"{operation} {model[:200]}",
            context=_parent_context(parent),
            kind=SpanKind.SERVER,
            attributes=attributes,
        )

    def start_attempt(self, attributes: dict[str, Any]) -> Span:
        name = f"{attributes['gen_ai.operation.name']} {attributes['gen_ai.request.model']}"
        return self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def shutdown(self) -> None:
        """Flush and stop the exporters of a provider this gateway built (blocking)."""
        if self._owned:
            self.provider.shutdown()


def end_failed(span: Span, error_type: str, status: int | None = None) -> None:
    span.set_attribute("error.type", error_type)
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    span.set_status(Status(StatusCode.ERROR))
    span.end()


class UpstreamSpans:
    """One request's upstream attempt spans (trace.AttemptSpans): each attempt is a CLIENT
    span under the call stage's, and the `traceparent` the upstream receives names it."""

    __slots__ = ("_describe", "_tracing", "open")

    def __init__(self, tracing: Tracing, describe: Callable[[str], dict[str, Any]]) -> None:
        self._tracing = tracing
        self._describe = describe
        self.open: Span | None = None

    def start(self, deployment: str, attempt: int) -> TraceParent:
        if self.open is not None:
            self.open.end()
        attributes = self._describe(deployment)
        attributes["switchboard.attempt"] = attempt
        self.open = self._tracing.start_attempt(attributes)
        return traceparent_of(self.open)

    def failed(self, reason: str, status: int | None) -> None:
        if self.open is not None:
            end_failed(self.open, reason.split(":", 1)[0], status)
            self.open = None

    def finish(self, attributes: dict[str, Any]) -> None:
        """The last attempt answered: its usage and response model, then its end."""
        if self.open is not None:
            self.open.set_attributes(attributes)
            self.open.end()
            self.open = None


class TracedStage:
    """A pipeline stage inside a span of its own (`switchboard.<stage>`); the stages after it
    run inside it, as a filter chain nests, so each span shows what the stage waited for."""

    __slots__ = ("_name", "_stage", "_tracer")

    def __init__(self, stage: Any, tracer: Tracer) -> None:
        self._stage = stage
        self._tracer = tracer
        self._name = "switchboard." + type(stage).__name__.removesuffix("Stage").lower()

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        with self._tracer.start_as_current_span(
            self._name, record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                return await self._stage(ctx, call_next)
            except Exception as exc:
                span.set_attribute("error.type", getattr(exc, "code", None) or type(exc).__name__)
                if getattr(exc, "status", 500) >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                raise
