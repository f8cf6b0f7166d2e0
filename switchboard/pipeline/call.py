"""Call stage: try the plan's deployments in order, retrying with backoff, until one answers.

Only retryable provider errors (429, 5xx, timeouts, connection failures) move on to the next
deployment; an upstream 4xx is the client's and returns at once. A Responses request that only a
native deployment can serve whole skips the plan's translating deployments when it has one. A
stream fails over only until its first token: the chunks before it are held back, so the client
sees one clean stream.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from switchboard.domain import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
    Reply,
)
from switchboard.errors import NoHealthyDeployment, ProviderError, UpstreamTimeout
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.providers.capabilities import capabilities, fit_request, serves_natively
from switchboard.providers.fanout import fan_out_chat, fan_out_stream
from switchboard.routing.health import DeploymentHealth
from switchboard.routing.plan import Candidate
from switchboard.routing.quota import DeploymentQuota
from switchboard.routing.retry import RetryPolicy


def _is_first_token(chunk: ChatChunk) -> bool:
    """Content, a tool call, an end, or anything else the model said (reasoning, refusal)."""
    return any(
        c.content
        or c.tool_calls
        or c.finish_reason
        or (c.delta_extra is not None and any(c.delta_extra.values()))
        for c in chunk.choices
    )


async def _until_first_token(stream: ChunkStream) -> list[ChatChunk]:
    """Read (and keep) chunks up to the first one with content."""
    held: list[ChatChunk] = []
    async for chunk in stream:
        held.append(chunk)
        if _is_first_token(chunk):
            break
    return held


async def _served_stream(
    ctx: RequestContext,
    health: DeploymentHealth,
    held: list[ChatChunk],
    stream: ChunkStream,
    ttft_s: float,
    settle: Callable[[int], Awaitable[None]],
) -> ChunkStream:
    """Replay the held chunks, then pass the rest through, timing upstream waits."""
    clock = time.perf_counter
    outcome: bool | None = None
    tokens = 0  # for the deployment's tokens-per-minute quota
    try:
        for chunk in held:
            yield chunk
        while True:
            t0 = clock()
            try:
                chunk = await anext(stream)
            except StopAsyncIteration:
                break
            finally:
                ctx.upstream_seconds += clock() - t0
            if chunk.usage is not None:
                tokens = chunk.usage.total_tokens
            yield chunk
        outcome = True
    except ProviderError as exc:
        outcome = not exc.retryable
        raise
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        if outcome is None:
            health.abandoned()  # the client went away: says nothing about the upstream
        else:
            health.finished(success=outcome, latency_s=ttft_s)
        await settle(tokens)


class CallStage:
    """The last stage: it answers every request that reaches it, or raises the last error."""

    def __init__(
        self,
        policy: RetryPolicy,
        quota: DeploymentQuota | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._policy = policy
        self._quota = quota
        self._rng = rng or random.Random()

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        errors: list[ProviderError] = []
        round_no = 0
        native_only = _native_only(ctx)
        while True:
            for cand in ctx.plan:
                if not cand.health.breaker.allow() or (native_only and not _whole(ctx, cand)):
                    continue
                try:
                    return await self._attempt(ctx, cand)
                except ProviderError as exc:
                    if not exc.retryable:
                        raise
                    errors.append(exc)
            round_no += 1
            retry_after = getattr(errors[-1], "retry_after", None) if errors else None
            delay = self._policy.delay(round_no, retry_after, self._rng)
            if delay is None or not errors:
                break
            await asyncio.sleep(delay)
        if errors:
            raise errors[-1]
        raise NoHealthyDeployment(f"no deployment of model {ctx.model!r} could take the request")

    async def _attempt(self, ctx: RequestContext, cand: Candidate) -> Reply:
        quota = self._quota
        held_quota = await quota.admit(cand.deployment, ctx.request) if quota else None

        async def settle(tokens: int) -> None:
            if quota is not None:
                await quota.settle(held_quota, tokens)

        try:
            reply = await self._call(ctx, cand, settle)
        except BaseException:
            await settle(0)
            raise
        if isinstance(reply, ChatResponse | EmbeddingResponse):
            await settle(reply.usage.total_tokens if reply.usage is not None else 0)
        return reply

    async def _call(
        self, ctx: RequestContext, cand: Candidate, settle: Callable[[int], Awaitable[None]]
    ) -> Reply:
        ctx.attempts += 1
        ctx.deployment = cand.deployment
        request, health = ctx.request, cand.health
        if isinstance(request, ChatRequest):
            request, ctx.dropped_params = fit_request(
                request, cand.deployment, cand.drop_unsupported
            )
        health.started()
        t0 = time.perf_counter()
        try:
            if isinstance(request, ChatRequest) and request.stream:
                stream = _chat_stream(cand, request)
                try:
                    async with asyncio.timeout(cand.deployment.first_token_timeout):
                        held = await _until_first_token(stream)
                except TimeoutError:
                    raise UpstreamTimeout(
                        f"upstream {cand.deployment.id} sent no token in time"
                    ) from None
                except BaseException:
                    await stream.aclose()  # type: ignore[attr-defined]
                    raise
                ttft = time.perf_counter() - t0
                return _served_stream(ctx, health, held, stream, ttft, settle)
            reply: ChatResponse | EmbeddingResponse
            if isinstance(request, EmbeddingRequest):
                reply = await cand.provider.embed(request)
            else:
                reply = await _chat(cand, request)
            health.finished(success=True, latency_s=time.perf_counter() - t0)
            return reply
        except ProviderError as exc:
            health.finished(success=not exc.retryable, latency_s=None)
            raise
        except BaseException:
            health.abandoned()
            raise
        finally:
            ctx.upstream_seconds += time.perf_counter() - t0


def _whole(ctx: RequestContext, cand: Candidate) -> bool:
    """Whether `cand` serves the request with nothing left out (natively, or dropping)."""
    request = ctx.request
    assert isinstance(request, ChatRequest)
    return serves_natively(request, cand.deployment) or cand.drop_unsupported


def _native_only(ctx: RequestContext) -> bool:
    """A Responses request whose chat translation left something out, and a plan with a native
    deployment: the translating ones would refuse it (400), so a failover skips them."""
    request = ctx.request
    if not isinstance(request, ChatRequest) or request.native is None:
        return False
    if request.native.untranslated is None:
        return False
    return any(serves_natively(request, c.deployment) for c in ctx.plan)


def _fanned_out(cand: Candidate, request: ChatRequest) -> int:
    """How many one-choice calls serve `request` here (1: the upstream serves `n` itself)."""
    n = request.choice_count()
    return 1 if n == 1 or capabilities(cand.deployment.provider).native_n else n


def _chat_stream(cand: Candidate, request: ChatRequest) -> ChunkStream:
    n = _fanned_out(cand, request)
    return cand.provider.stream(request) if n == 1 else fan_out_stream(cand.provider, request, n)


async def _chat(cand: Candidate, request: ChatRequest) -> ChatResponse:
    n = _fanned_out(cand, request)
    if n == 1:
        return await cand.provider.chat(request)
    return await fan_out_chat(cand.provider, request, n)
