"""Record stage: emit one RequestFinished event per request (metrics, usage and cost subscribe)."""

from __future__ import annotations

import asyncio
import time

from switchboard.domain import ChatResponse, ChunkStream, EmbeddingResponse, Reply
from switchboard.errors import SwitchboardError
from switchboard.observability.events import EventBus, RequestFinished
from switchboard.pipeline.context import RequestContext
from switchboard.pipeline.stage import Next
from switchboard.pricing import cost_usd

CLIENT_CLOSED = 499  # nginx's convention for "the client went away"


class RecordStage:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        self._bus.started(ctx.endpoint)
        try:
            reply = await call_next(ctx)
        except SwitchboardError as exc:
            self._publish(ctx, exc.status, exc.code or exc.type)
            raise
        except asyncio.CancelledError:
            self._publish(ctx, CLIENT_CLOSED, "cancelled")
            raise
        except BaseException:
            self._publish(ctx, 500, "internal_error")
            raise
        if isinstance(reply, ChatResponse | EmbeddingResponse):
            self._publish(ctx, 200, "ok")
            return reply
        return self._observe(ctx, reply)

    async def _observe(self, ctx: RequestContext, stream: ChunkStream) -> ChunkStream:
        status, outcome = 200, "ok"
        try:
            async for chunk in stream:
                yield chunk
        except SwitchboardError as exc:
            status, outcome = exc.status, exc.code or exc.type
            raise
        except (asyncio.CancelledError, GeneratorExit):
            status, outcome = CLIENT_CLOSED, "cancelled"
            raise
        except BaseException:
            status, outcome = 500, "internal_error"
            raise
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # the accountant sets usage
            truncated = status not in (200, CLIENT_CLOSED) and ctx.first_token_at is not None
            self._publish(ctx, status, outcome, truncated=truncated)

    def _publish(
        self,
        ctx: RequestContext,
        status: int,
        outcome: str,
        *,
        truncated: bool = False,
    ) -> None:
        now = time.perf_counter()
        usage = ctx.usage
        price = ctx.deployment.price if ctx.deployment is not None else None
        self._bus.finished(
            RequestFinished(
                request_id=ctx.request_id,
                endpoint=ctx.endpoint,
                # an unrouted name is client text: keep it out of metric labels
                model=ctx.model if ctx.deployment is not None else "unknown",
                deployment=ctx.deployment.id if ctx.deployment is not None else None,
                status=status,
                outcome=outcome,
                stream=ctx.is_stream,
                usage=usage,
                usage_estimated=ctx.usage_estimated,
                cost_usd=cost_usd(usage, price) if usage is not None and price else 0.0,
                latency_s=now - ctx.started,
                ttft_s=(ctx.first_token_at - ctx.started) if ctx.first_token_at else None,
                overhead_s=ctx.overhead_ms(now) / 1000.0,
                attempts=ctx.attempts,
                truncated=truncated,
                key_id=ctx.key.id if ctx.key is not None else None,
                tenant=ctx.key.tenant if ctx.key is not None else None,
            )
        )
