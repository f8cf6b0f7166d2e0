"""The events the pipeline emits, and the bus that hands them to subscribers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from switchboard.domain import Usage
from switchboard.observability.trace import CallerTags

log = logging.getLogger("switchboard.events")


@dataclass(frozen=True, slots=True)
class RequestFinished:
    """One per request, success or not: the single source for metrics, usage and cost."""

    request_id: str
    endpoint: str
    model: str
    deployment: str | None
    status: int
    outcome: str  # "ok", "cancelled", or the error code
    stream: bool
    usage: Usage | None
    usage_estimated: bool
    cost_usd: float
    latency_s: float
    ttft_s: float | None
    overhead_s: float
    attempts: int
    truncated: bool = False  # a stream that broke after chunks reached the client
    key_id: str | None = None  # the API key's id (never the key itself)
    tenant: str | None = None
    provider: str | None = None  # the serving deployment's provider type
    tier: str | None = None  # complexity routing's tier, when the model routes by it
    requested_model: str | None = None  # as the client sent it (client text: never a label as is)
    retries: int = 0  # attempts again on the same deployment
    failovers: int = 0  # attempts moved to another deployment
    limit: str | None = None  # a refusal by the key's limits: rpm, tpm, concurrency or budget
    trace_id: str | None = None
    in_pipeline: bool = True  # False: refused (or answered) before the pipeline, e.g. a 401
    cache: str | None = None  # hit-exact, hit-semantic, miss, bypass; None: no cache policy
    saved_tokens: int = 0  # a cache hit: the tokens its stored reply cost when it was made
    saved_usd: float = 0.0  # ... priced at the deployment the route would have picked first
    caller: CallerTags | None = None  # the caller's own session, user and trace ids
    response_model: str | None = None  # the serving deployment's upstream model


class Subscriber(Protocol):
    def request_started(self, endpoint: str) -> None: ...

    def request_finished(self, event: RequestFinished) -> None: ...


class EventBus:
    """Synchronous fan-out; subscribers must be quick and must not raise into the request."""

    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self._subscribers: list[Subscriber] = list(subscribers or [])

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def started(self, endpoint: str) -> None:
        for sub in self._subscribers:
            try:
                sub.request_started(endpoint)
            except Exception:
                log.exception("subscriber %r failed on request_started", sub)

    def finished(self, event: RequestFinished) -> None:
        for sub in self._subscribers:
            try:
                sub.request_finished(event)
            except Exception:
                log.exception("subscriber %r failed on request_finished", sub)
