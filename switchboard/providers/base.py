"""The Provider protocol every adapter implements, and the wire-adapter seam for HTTP upstreams.

HTTP providers split in two: a `WireAdapter` translates (build the upstream request, parse the
response, parse stream events, map errors) and the shared `HttpTransport` does the I/O. Providers
that are not plain HTTP+JSON (Bedrock's signed event streams, the in-process local model)
implement `Provider` directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from switchboard.domain import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
)
from switchboard.errors import ProviderError

if TYPE_CHECKING:
    from switchboard.catalogue import DeploymentConfig
    from switchboard.config import Settings


class Provider(Protocol):
    """What the call stage needs from an upstream: chat, streamed chat and embeddings."""

    async def start(self) -> None:
        """Open pools or load weights; called once at start-up."""

    def is_ready(self) -> bool:
        """Whether the provider can take requests now (weights loaded, client open)."""

    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    def stream(self, request: ChatRequest) -> ChunkStream:
        """Return an async iterator of chunks; closing it cancels the upstream call."""

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse: ...

    async def aclose(self) -> None: ...


ProviderFactory = Callable[["DeploymentConfig", "Settings"], Provider]


@dataclass(slots=True)
class UpstreamRequest:
    """An HTTP request an adapter wants sent; `url` is joined to the deployment's api_base."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"


@dataclass(slots=True)
class SseEvent:
    event: str
    data: str


class StreamParser(Protocol):
    """Stateful translation of one upstream stream into chunks."""

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        """Chunks for this event; raises ProviderError on an in-stream error event."""

    def done(self) -> bool:
        """True once the upstream signalled the end of the stream (no more events needed)."""

    def finished(self) -> bool:
        """True once a finish reason was seen: a stream that ends before this was cut."""


class WireAdapter(Protocol):
    """Translation between Switchboard's types and one provider's HTTP wire format."""

    def chat_request(self, request: ChatRequest, *, stream: bool) -> UpstreamRequest: ...

    def parse_chat(self, body: bytes, request: ChatRequest) -> ChatResponse: ...

    def stream_parser(self, request: ChatRequest) -> StreamParser: ...

    def embed_request(self, request: EmbeddingRequest) -> UpstreamRequest:
        """Raise UnsupportedOperation where the provider has no embeddings."""

    def parse_embeddings(self, body: bytes, request: EmbeddingRequest) -> EmbeddingResponse: ...

    def error(self, status: int, body: bytes, headers: dict[str, str]) -> ProviderError: ...
