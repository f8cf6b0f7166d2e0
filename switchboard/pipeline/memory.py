"""Memory stage: a stored conversation's history goes into the request, the reply into the store.

It runs after auth, so a conversation belongs to its owner (tenant and key, `ctx.owner`): an id
that another key used is, for this key, simply a new conversation. The exchange is stored only
once the reply is complete, so a failed or abandoned turn leaves no trace.
"""

from __future__ import annotations

from switchboard.domain import ChatRequest, ChatResponse, ChunkStream, Message, Reply
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.stores.conversations import ConversationStore


class MemoryStage:
    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        turn = ctx.conversation
        if turn is None or not isinstance(ctx.request, ChatRequest):
            return await call_next(ctx)
        request = ctx.request
        user = request.messages[-1]
        history = await self._store.history(ctx.owner, turn.conversation_id)
        if history:
            request.messages[-1:] = [*history, user]
        reply = await call_next(ctx)
        if isinstance(reply, ChatResponse):
            text = reply.choices[0].content or "" if reply.choices else ""
            await self._save(ctx, user, text)
            return reply
        assert not isinstance(reply, ChatResponse)
        return self._save_when_done(ctx, user, reply)  # type: ignore[arg-type]

    async def _save_when_done(
        self, ctx: RequestContext, user: Message, stream: ChunkStream
    ) -> ChunkStream:
        complete = False
        try:
            async for chunk in stream:
                yield chunk
            complete = True
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        if complete and ctx.reply is not None:
            await self._save(ctx, user, ctx.reply.text())

    async def _save(self, ctx: RequestContext, user: Message, text: str) -> None:
        assert ctx.conversation is not None
        await self._store.append(
            ctx.owner, ctx.conversation.conversation_id, [user, Message("assistant", text)]
        )
        ctx.conversation.stored = True
