"""W3C trace context and the request's trail of upstream attempts.

The request id and trace must reach the transport, which sees only an `UpstreamRequest`: they
travel in a ContextVar, set by the record stage for the length of the pipeline (and, for the
caller's `traceparent`, by the request-id middleware), the way OpenTelemetry carries its context.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

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


_MAX_TAG_CHARS = 128
_SESSION_SUFFIX, _USER_SUFFIX = b"-session-id", b"-user-id"


def clean_tag(value: object) -> str | None:
    """A caller's session, user or trace id as we keep it: printable text, 128 chars at most."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = "".join(ch for ch in str(value)[:_MAX_TAG_CHARS] if ch.isprintable()).strip()
    return text or None


@dataclass(frozen=True, slots=True)
class CallerTags:
    """The caller's own trace and session metadata, kept on spans, log lines and usage rows:
    Helicone-style `*-Session-Id` / `*-User-Id` headers and Langfuse-style `metadata`
    (`trace_id`, `session_id`, `user`) or OpenAI's `user` in the body."""

    session_id: str | None = None
    user_id: str | None = None
    trace_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.session_id or self.user_id or self.trace_id)

    def over(self, other: CallerTags | None) -> CallerTags:
        """These tags, completed by `other` where they have none."""
        if other is None:
            return self
        return CallerTags(
            self.session_id or other.session_id,
            self.user_id or other.user_id,
            self.trace_id or other.trace_id,
        )

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[bytes, bytes]]) -> CallerTags | None:
        session = user = None
        for name, value in headers:
            if session is None and name.endswith(_SESSION_SUFFIX):
                session = clean_tag(value.decode("latin-1"))
            elif user is None and name.endswith(_USER_SUFFIX):
                user = clean_tag(value.decode("latin-1"))
        return cls(session, user) if session or user else None

    @classmethod
    def from_body(cls, params: Mapping[str, Any]) -> CallerTags | None:
        if "metadata" not in params and "user" not in params:
            return None
        metadata = params.get("metadata")
        meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
        tags = cls(
            clean_tag(meta.get("session_id")),
            clean_tag(meta.get("user") or meta.get("user_id") or params.get("user")),
            clean_tag(meta.get("trace_id")),
        )
        return tags or None


class AttemptSpans(Protocol):
    """Spans of the upstream attempts (observability/spans.py), when tracing is on."""

    def start(self, deployment: str, attempt: int) -> TraceParent: ...

    def failed(self, reason: str, status: int | None) -> None: ...

    def finish(self, attributes: dict[str, Any]) -> None: ...


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
    spans: AttemptSpans | None = None  # None: tracing is off
    caller: CallerTags | None = None
    otel: Any = None  # the request's OpenTelemetry span, when tracing is on

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
        spans = self.spans
        parent = spans.start(deployment, next_attempt) if spans is not None else self.span.child()
        return [("x-request-id", self.request_id), ("traceparent", parent.header())]

    def failed(self, deployment: str, status: int | None, reason: str) -> None:
        """Note (and log) an attempt that failed: an error status or a network failure."""
        self.last_failure = reason
        fields = self._fields(deployment, reason, len(self.tried))
        if status is not None:
            fields["upstream_status"] = status
        log.warning("upstream failure", extra={"fields": fields})
        if self.spans is not None:
            self.spans.failed(reason, status)

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
# The caller's session and user headers, set by the same middleware.
incoming_caller: ContextVar[CallerTags | None] = ContextVar("incoming_caller", default=None)
# The request being served, set by the record stage while the pipeline runs.
current_request: ContextVar[RequestTrace | None] = ContextVar("current_request", default=None)
