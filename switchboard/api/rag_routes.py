"""RAG answers over the caller's documents: `POST /v1/rag/stream` (SSE) and `POST /v1/rag` (JSON).

Retrieval runs first (the tenant's own chunks only); the answer is a chat completion that runs
the same pipeline as `/v1/chat/completions` with the caller's key (auth, limits, cache,
routing, accounting). The stream's events, in order:

    status {step: retrieving} -> sources [{title, page, chunk_id, score}]
    -> status {step: generating} -> token {text} ... -> done {usage, cost, latency, citations}

and `error` {message, type, param, code} in place of whatever was left, on failure. Errors
known before the stream starts (a bad key, a bad body) keep their HTTP status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.body import parse_body
from switchboard.api.deps import caller_key, gateway_of, request_context
from switchboard.api.disconnect import unless_disconnected
from switchboard.api.documents_routes import runtime_of
from switchboard.api.openai_routes import json_response
from switchboard.api.render import error_json, usage_json
from switchboard.api.streaming import EventStreamResponse
from switchboard.domain import ChatResponse, EmbeddingResponse
from switchboard.embeddings.local import EmbedderUnavailable
from switchboard.errors import ServiceNotReady, SwitchboardError
from switchboard.gateway import Gateway
from switchboard.pipeline.context import RequestContext
from switchboard.pricing import cost_usd
from switchboard.rag.models import Source, tenant_owner
from switchboard.rag.prompt import citations, grounded_request, sources_trailer

log = logging.getLogger("switchboard.rag")
router = APIRouter()


class RagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=8000)
    model: str | None = Field(None, max_length=200)
    top_k: int | None = Field(None, ge=1, le=50, strict=True)
    max_tokens: int | None = Field(None, ge=1, le=100_000, strict=True)
    temperature: float | None = Field(None, ge=0, le=2, allow_inf_nan=False)
    cite: bool = Field(True, strict=True, description="append the sources the answer used")


def event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def outcome_json(ctx: RequestContext, started: float) -> dict[str, Any]:
    """Usage, cost (USD, at the serving deployment's price) and latency of the answer."""
    usage = ctx.usage
    price = ctx.deployment.price if ctx.deployment is not None else None
    return {
        "model": ctx.model,
        "usage": usage_json(usage) if usage is not None else None,
        "cost": cost_usd(usage, price) if usage is not None and price is not None else 0.0,
        "latency": round(time.perf_counter() - started, 6),
    }


async def retrieve(request: Request, owner: str, body: RagIn) -> list[Source]:
    services = (await runtime_of(request)).services
    try:
        return await services.retriever.search(owner, body.query, body.top_k or services.top_k)
    except EmbedderUnavailable as exc:
        raise ServiceNotReady(f"Retrieval is unavailable: {exc}") from None


class Answer:
    """One RAG answer: the question, its sources, the context the pipeline runs under."""

    def __init__(self, request: Request, gateway: Gateway, body: RagIn, key: Any) -> None:
        self.request = request
        self.gateway = gateway
        self.body = body
        self.key = key
        self.started = time.perf_counter()
        self.owner = tenant_owner(key.tenant if key is not None else None)

    def context(self, sources: list[Source], stream: bool) -> RequestContext:
        body = self.body
        chat = grounded_request(
            body.model or self.gateway.default_model,
            body.query,
            sources,
            stream=stream,
            max_tokens=body.max_tokens,
            temperature=body.temperature,
        )
        return request_context(self.request, "rag", chat, self.key)

    async def events(self) -> AsyncIterator[bytes]:
        yield event("status", {"step": "retrieving"})
        try:
            sources = await retrieve(self.request, self.owner, self.body)
            yield event("sources", [s.public() for s in sources])
            yield event("status", {"step": "generating"})
            ctx = self.context(sources, stream=True)
            reply = await self.gateway.pipeline(ctx)
            assert not isinstance(reply, ChatResponse | EmbeddingResponse)
            parts: list[str] = []
            try:
                async for chunk in reply:
                    for choice in chunk.choices:
                        if choice.content:
                            parts.append(choice.content)
                            yield event("token", {"text": choice.content})
            finally:
                await reply.aclose()  # type: ignore[attr-defined]
            cited = citations("".join(parts), sources)
            if self.body.cite and cited:
                yield event("token", {"text": sources_trailer(cited)})
            done = outcome_json(ctx, self.started)
            yield event("done", {**done, "citations": [c.public() for c in cited]})
        except SwitchboardError as exc:
            yield event("error", error_json(exc)["error"])
        except Exception:
            log.exception("rag stream failed")
            failed = SwitchboardError("The server had an error processing your request.")
            yield event("error", error_json(failed)["error"])

    async def json(self) -> dict[str, Any]:
        sources = await retrieve(self.request, self.owner, self.body)
        ctx = self.context(sources, stream=False)
        reply = await unless_disconnected(self.request.receive, self.gateway.pipeline(ctx))
        assert isinstance(reply, ChatResponse)
        answer = (reply.choices[0].content or "") if reply.choices else ""
        cited = citations(answer, sources)
        if self.body.cite:
            answer += sources_trailer(cited)
        return {
            "object": "rag.answer",
            "answer": answer,
            "sources": [s.public(with_text=True) for s in sources],
            "citations": [c.public() for c in cited],
            **outcome_json(ctx, self.started),
        }


async def _answer(request: Request) -> Answer:
    gateway = gateway_of(request)
    key = await caller_key(request, gateway)  # before the body: strangers cost no parsing
    body = await parse_body(request, RagIn, gateway.settings.max_body_bytes)
    return Answer(request, gateway, body, key)


async def rag_stream(request: Request) -> Response:
    answer = await _answer(request)
    return EventStreamResponse(answer.events())


async def rag_json(request: Request) -> Response:
    answer = await _answer(request)
    return json_response(await answer.json())


router.add_route("/v1/rag/stream", rag_stream, methods=["POST"])
router.add_route("/v1/rag", rag_json, methods=["POST"])
