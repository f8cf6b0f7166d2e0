"""HttpProvider: a WireAdapter (translation) joined to an HttpTransport (I/O)."""

from __future__ import annotations

from switchboard.domain import (
    ChatRequest,
    ChatResponse,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
)
from switchboard.errors import StreamInterrupted
from switchboard.providers.base import WireAdapter
from switchboard.providers.transport import HttpTransport


class HttpProvider:
    """A Provider for any upstream that speaks HTTP with JSON bodies and SSE streams."""

    def __init__(self, adapter: WireAdapter, transport: HttpTransport) -> None:
        self.adapter = adapter
        self.transport = transport

    async def start(self) -> None:
        await self.transport.start()

    def is_ready(self) -> bool:
        return self.transport.is_ready()

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def chat(self, request: ChatRequest) -> ChatResponse:
        upstream = self.adapter.chat_request(request, stream=False)
        body = await self.transport.send(upstream, self.adapter.error)
        return self.adapter.parse_chat(body, request)

    async def stream(self, request: ChatRequest) -> ChunkStream:  # type: ignore[override]
        upstream = self.adapter.chat_request(request, stream=True)
        parser = self.adapter.stream_parser(request)
        events = self.transport.stream_events(upstream, self.adapter.error)
        try:
            async for event in events:
                for chunk in parser.feed(event):
                    yield chunk
                if parser.done():
                    break
            else:
                if not parser.finished():
                    raise StreamInterrupted("upstream stream ended before it finished")
        finally:
            await events.aclose()

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        upstream = self.adapter.embed_request(request)
        body = await self.transport.send(upstream, self.adapter.error)
        return self.adapter.parse_embeddings(body, request)
