"""W3C trace context and the request's trail of upstream attempts.

The request id and trace must reach the transport, which sees only an `UpstreamRequest`: they
travel in a ContextVar, set by the record stage for the length of the pipeline (and, for the
caller's `traceparent`, by the request-id middleware), the way OpenTelemetry carries its context.
"""

from __future__ import annotations

import logging
import random
import re
from contextvars import ContextVar
from dataclasses import dataclass, field

log = logging.getLogger("switchboard.upstream")

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


def _hex(bits: int) -> str:
    return f"{random.getrandbits(bits):0{bits // 4}x}"


@dataclass(frozen=True, slots=True)
class TraceParent:
    """One W3C `traceparent`: the trace, the span that is the parent, and the sampled flag."""

    trace_id: str
    span_id: str
    flags: str = "01"

    @classmethod
    def parse(cls, header: str | None) -> TraceParent | None:
        """The caller's traceparent, or None when absent or malformed (then a new trace starts)."""
        if not header:
            return None
        found = _TRACEPARENT.match(header.strip().lower())
        if found is None or found[1] == "ff":
            return None
        trace_id, span_id = found[2], found[3]
        if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
            return None
        return cls(trace_id, span_id, found[4])

    @classmethod
    def new(cls) -> TraceParent:
        return cls(_hex(128), _hex(64))

    def child(self) -> TraceParent:
        """The same trace, continued with a new span id."""
        return TraceParent(self.trace_id, _hex(64), self.flags)

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


@dataclass(slots=True)
class RequestTrace:
    """What one request's upstream attempts carry and leave behind: its id, its span, and
    which deployments were tried (so a retry and a failover can be told apart)."""

    request_id: str
    span: TraceParent
    tried: list[str] = field(default_factory=list)
    last_failure: str | None = None
    retries: int = 0
    failovers: int = 0

    def attempt(self, deployment: str) -> list[tuple[str, str]]:
        """Note an attempt about to start; the headers that tell the upstream who asks."""
        next_attempt = len(self.tried) + 1
        if self.tried:
            previous = self.tried[-1]
            if previous == deployment:
                self.retries += 1
                log.warning(
                    "upstream retry",
                    extra={"fields": self._fields(deployment, self.last_failure, next_attempt)},
                )
            else:
                self.failovers += 1
                log.warning(
                    "upstream failover",
                    extra={
                        "fields": {
                            **self._fields(deployment, self.last_failure, next_attempt),
                            "from_deployment": previous,
                        }
                    },
                )
        self.tried.append(deployment)
        return [
            ("x-request-id", self.request_id),
            ("traceparent", self.span.child().header()),
        ]

    def failed(self, deployment: str, status: int | None, reason: str) -> None:
        """Note (and log) an attempt that failed: an error status or a network failure."""
        self.last_failure = reason
        fields = self._fields(deployment, reason, len(self.tried))
        if status is not None:
            fields["upstream_status"] = status
        log.warning("upstream failure", extra={"fields": fields})

    def _fields(self, deployment: str, reason: str | None, attempt: int) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "trace_id": self.span.trace_id,
            "deployment": deployment,
            "attempt": attempt,
            "reason": reason,
        }


# The caller's traceparent, set by the request-id middleware for the HTTP request.
incoming_trace: ContextVar[TraceParent | None] = ContextVar("incoming_trace", default=None)
# The request being served, set by the record stage while the pipeline runs.
current_request: ContextVar[RequestTrace | None] = ContextVar("current_request", default=None)
