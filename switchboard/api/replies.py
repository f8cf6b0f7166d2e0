"""Run the pipeline for a route that translates another wire format, up to the first chunk."""

from __future__ import annotations

from switchboard.api.openai_routes import first_chunk
from switchboard.domain import ChatChunk, ChatResponse, ChunkStream, EmbeddingResponse
from switchboard.gateway import Gateway
from switchboard.pipeline.context import RequestContext


async def chat_reply(
    gateway: Gateway, ctx: RequestContext
) -> tuple[ChatResponse | None, ChunkStream | None, ChatChunk | None]:
    """The reply (JSON) or the stream and its first chunk, pulled before any byte is sent so
    that early errors keep their HTTP status; one step, so a client disconnect can cancel it."""
    reply = await gateway.pipeline(ctx)
    if isinstance(reply, ChatResponse):
        return reply, None, None
    assert not isinstance(reply, EmbeddingResponse)
    return None, reply, await first_chunk(reply)
