"""RequestLog: one log line per request, from its RequestFinished event (errors included).

The line names the key by its id, never the key; prompts and replies are never in it.
"""

from __future__ import annotations

import logging

from switchboard.observability.events import RequestFinished

log = logging.getLogger("switchboard.request")

_MAX_MODEL_CHARS = 100  # the requested model is client text: bound what a line carries


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def request_fields(event: RequestFinished) -> dict[str, object]:
    """The line's fields, in a stable order; None values are left out by the formatters."""
    usage = event.usage
    caller = event.caller
    model = event.model
    if model == "unknown" and event.requested_model:
        model = event.requested_model[:_MAX_MODEL_CHARS]
    return {
        "request_id": event.request_id,
        "trace_id": event.trace_id,
        "key_id": event.key_id,
        "tenant": event.tenant,
        "endpoint": event.endpoint,
        "model": model,
        "deployment": event.deployment,
        "provider": event.provider,
        "tier": event.tier,
        "stream": event.stream,
        "status": event.status,
        "outcome": event.outcome,
        "limit": event.limit,
        "attempts": event.attempts,
        "retries": event.retries or None,
        "failovers": event.failovers or None,
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
        "cached_tokens": (usage.cached_tokens or None) if usage else None,
        "usage_estimated": event.usage_estimated or None,
        "cost_usd": round(event.cost_usd, 8),
        "latency_ms": _ms(event.latency_s),
        "ttft_ms": _ms(event.ttft_s),
        "overhead_ms": _ms(event.overhead_s),
        "truncated": event.truncated or None,
        "session_id": caller.session_id if caller else None,
        "user_id": caller.user_id if caller else None,
        "client_trace_id": caller.trace_id if caller else None,
    }


def outside_pipeline(
    *,
    request_id: str,
    endpoint: str,
    status: int,
    outcome: str,
    latency_s: float,
    trace_id: str | None,
) -> RequestFinished:
    """The event of a request answered before (or without) the pipeline: a 401 from the
    headers, a 400 body, a 404 path, or a route that calls no model."""
    return RequestFinished(
        request_id=request_id,
        endpoint=endpoint,
        model="unknown",
        deployment=None,
        status=status,
        outcome=outcome,
        stream=False,
        usage=None,
        usage_estimated=False,
        cost_usd=0.0,
        latency_s=latency_s,
        ttft_s=None,
        overhead_s=latency_s,
        attempts=0,
        trace_id=trace_id,
        in_pipeline=False,
    )


class RequestLog:
    """An event subscriber: `info` for answered and refused requests, `error` for 5xx."""

    def request_started(self, endpoint: str) -> None:
        pass

    def request_finished(self, event: RequestFinished) -> None:
        level = logging.ERROR if event.status >= 500 else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, "request", extra={"fields": request_fields(event)})
