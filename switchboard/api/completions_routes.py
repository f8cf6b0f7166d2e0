"""`POST /v1/completions`: OpenAI's legacy text completions, translated to chat for every
deployment. The prompt becomes one user message and the reply's text the completion; the
request runs the same pipeline as a chat completion."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.deps import caller_key, gateway_of, request_context
from switchboard.api.disconnect import unless_disconnected
from switchboard.api.openai_routes import json_response, openai_sse, reply_and_first_chunk
from switchboard.api.render import completion_chunk_json, completion_json, sse
from switchboard.api.schemas import CompletionIn
from switchboard.api.streaming import EventStreamResponse
from switchboard.domain import ChatChunk, ChatResponse, EmbeddingResponse

router = APIRouter()


async def _echoed(
    prompt: str, first: ChatChunk, events: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """`echo`: the prompt comes back first, as its own event."""
    choice = {"index": 0, "text": prompt, "logprobs": None, "finish_reason": None}
    head = {"id": first.id, "object": "text_completion", "created": first.created}
    yield sse({**head, "model": first.model, "choices": [choice]})
    try:
        async for event in events:
            yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]


async def completions(request: Request) -> Response:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)  # before the body: strangers cost no parsing
    body = await parse_body(request, CompletionIn, gateway.settings.max_body_bytes)
    chat = body.to_domain()
    ctx = request_context(request, "completions", chat, key)
    reply, first = await unless_disconnected(request.receive, reply_and_first_chunk(gateway, ctx))
    echo = body.prompt_text() if body.echo else ""
    if isinstance(reply, ChatResponse):
        return json_response(completion_json(reply, echo))
    assert not isinstance(reply, EmbeddingResponse)
    events = openai_sse(first, reply, chat.include_usage, completion_chunk_json)
    if echo and first is not None:
        events = _echoed(echo, first, events)
    return EventStreamResponse(events)


router.add_route("/v1/completions", completions, methods=["POST"])
router.add_route("/completions", completions, methods=["POST"])
