"""RequestContext: what one request carries through the chain of stages, and the one way to
make it (`open_context`), used alike by HTTP routes, each WebSocket message and workers."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from switchboard.domain import ChatRequest, EmbeddingRequest, Usage

if TYPE_CHECKING:
    from switchboard.cache.facts import CacheFacts
    from switchboard.catalogue import DeploymentConfig
    from switchboard.keys.models import ApiKey
    from switchboard.limits.types import Decision
    from switchboard.observability.trace import RequestTrace
    from switchboard.optimize.trim import OptimizeFacts
    from switchboard.pipeline.assembly import ReplyAssembler
    from switchboard.routing.plan import Candidate

ANONYMOUS = "anonymous"  # the owner of everything stored when API keys are off


@dataclass(slots=True)
class ConversationTurn:
    """A turn of a stored conversation: the memory stage loads its history and saves the reply."""

    conversation_id: str
    stored: bool = False  # set by the memory stage once the exchange is saved


@dataclass(slots=True)
class RequestContext:
    """Per-request state; stages read and fill typed fields, `api/` alone renders them."""

    request_id: str
    endpoint: str
    request: ChatRequest | EmbeddingRequest
    started: float = field(default_factory=time.perf_counter)
    credential: str | None = field(default=None, repr=False)  # the client's key: never logged
    key: ApiKey | None = None  # set by the auth stage (or by a caller that authenticated)
    internal: bool = False  # a call the gateway makes for itself (classifier, cache, jobs)
    conversation: ConversationTurn | None = None
    deployment: DeploymentConfig | None = None  # the one serving (or last tried)
    plan: list[Candidate] = field(default_factory=list)
    tier: str | None = None
    attempts: int = 0
    dropped_params: tuple[str, ...] = ()  # what the serving deployment could not honour
    ratelimit: Decision | None = None  # the key's rate-limit decision, for x-ratelimit-*
    upstream_seconds: float = 0.0  # time spent waiting on the upstream, excluded from overhead
    first_token_at: float | None = None
    usage: Usage | None = None  # set once, by the accountant (pipeline/account.py)
    usage_estimated: bool = False
    reply: ReplyAssembler | None = None  # a stream's reply as assembled by the accountant
    trace: RequestTrace | None = None  # set by the record stage: trace and upstream attempts
    recorded: bool = False  # the record stage took this request (it writes its one log line)
    cache: CacheFacts | None = None  # the client's cache directive and the cache's outcome
    optimized: OptimizeFacts | None = None  # what the token optimizer trimmed or set

    @property
    def model(self) -> str:
        return self.request.model

    @property
    def is_stream(self) -> bool:
        return isinstance(self.request, ChatRequest) and self.request.stream

    @property
    def owner(self) -> str:
        """Who owns what this request stores (conversations, cache entries, jobs)."""
        if self.key is None:
            return ANONYMOUS
        return f"tenant:{self.key.tenant}/key:{self.key.id}"

    def overhead_ms(self, now: float | None = None) -> float:
        """Time spent in the gateway itself so far, excluding upstream waits."""
        elapsed = (now or time.perf_counter()) - self.started
        return max(0.0, (elapsed - self.upstream_seconds) * 1000.0)


def new_request_id() -> str:
    return f"{random.getrandbits(128):032x}"  # no syscall, unlike uuid4


def open_context(
    endpoint: str,
    request: ChatRequest | EmbeddingRequest,
    *,
    credential: str | None = None,
    key: ApiKey | None = None,
    request_id: str | None = None,
    started: float | None = None,
    internal: bool = False,
) -> RequestContext:
    """A context for one request: from a credential (the auth stage checks it) or an already
    authenticated key; `started` is when the request arrived, so parsing counts as overhead."""
    return RequestContext(
        request_id=request_id or new_request_id(),
        endpoint=endpoint,
        request=request,
        started=started if started is not None else time.perf_counter(),
        credential=credential,
        key=key,
        internal=internal,
    )
