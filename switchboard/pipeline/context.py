"""RequestContext: what one request carries through the chain of stages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from switchboard.domain import ChatRequest, EmbeddingRequest, Usage

if TYPE_CHECKING:
    from switchboard.config import DeploymentConfig
    from switchboard.keys.models import ApiKey
    from switchboard.routing.plan import Candidate


@dataclass(slots=True)
class RequestContext:
    """Per-request state; stages read and fill it, nothing else is shared between them."""

    request_id: str
    endpoint: str
    request: ChatRequest | EmbeddingRequest
    started: float = field(default_factory=time.perf_counter)
    credential: str | None = field(default=None, repr=False)  # the client's key: never logged
    key: ApiKey | None = None  # set by the auth stage
    deployment: DeploymentConfig | None = None  # the one serving (or last tried)
    plan: list[Candidate] = field(default_factory=list)
    tier: str | None = None
    attempts: int = 0
    upstream_seconds: float = 0.0  # time spent waiting on the upstream, excluded from overhead
    first_token_at: float | None = None
    usage: Usage | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.request.model

    @property
    def is_stream(self) -> bool:
        return isinstance(self.request, ChatRequest) and self.request.stream

    def overhead_ms(self, now: float | None = None) -> float:
        """Time spent in the gateway itself so far, excluding upstream waits."""
        elapsed = (now or time.perf_counter()) - self.started
        return max(0.0, (elapsed - self.upstream_seconds) * 1000.0)
