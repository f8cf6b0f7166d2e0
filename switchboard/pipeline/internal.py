"""The gateway's own calls (the LLM classifier today; cache embeddings, jobs and the export
next) enter the chain as named internal endpoints, so they get breakers, retries, failover,
metrics and cost like any request, and nothing calls a provider around the pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from switchboard.domain import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse
from switchboard.pipeline.context import open_context
from switchboard.pipeline.stage import Next

if TYPE_CHECKING:
    from switchboard.keys.models import ApiKey


class InternalCalls:
    """Bound to the internal chain once it is built (the route stage, which uses it, is part
    of that chain)."""

    def __init__(self) -> None:
        self._chain: Next | None = None

    def bind(self, chain: Next) -> None:
        self._chain = chain

    async def chat(
        self, endpoint: str, request: ChatRequest, key: ApiKey | None = None
    ) -> ChatResponse:
        reply = await self._run(endpoint, request, key)
        if not isinstance(reply, ChatResponse):
            raise TypeError("internal chat calls are not streamed")
        return reply

    async def embed(
        self, endpoint: str, request: EmbeddingRequest, key: ApiKey | None = None
    ) -> EmbeddingResponse:
        reply = await self._run(endpoint, request, key)
        assert isinstance(reply, EmbeddingResponse)
        return reply

    def asker(self, endpoint: str) -> Callable[[ChatRequest], Awaitable[ChatResponse]]:
        """`chat` for one endpoint name, in the shape a classifier takes."""
        return partial(self.chat, endpoint)

    async def _run(
        self, endpoint: str, request: ChatRequest | EmbeddingRequest, key: ApiKey | None
    ) -> object:
        if self._chain is None:
            raise RuntimeError("internal calls are used before the pipeline is built")
        ctx = open_context(f"internal.{endpoint}", request, key=key, internal=True)
        return await self._chain(ctx)
