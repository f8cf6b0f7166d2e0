"""The `batch.run` task: every line of a batch through the pipeline with the batch's key, each
line recorded (result + usage) exactly once, then the output and error files.

A re-run (a lost worker, a restarted `serve`) skips the lines already recorded, so a line is
booked once however often the batch runs or is polled. Cancelling stops new lines; the lines
done so far are still written out.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from switchboard.api.render import chat_response_json, error_json
from switchboard.domain import ChatResponse, Usage
from switchboard.errors import RateLimited, ServiceNotReady, SwitchboardError
from switchboard.jobs.batch_budget import BatchHold, batch_hold
from switchboard.jobs.batch_format import BatchLine, jsonl, output_line, parse_input
from switchboard.jobs.batch_lanes import Lanes
from switchboard.jobs.batch_store import SqlBatchStore
from switchboard.jobs.context import JobContext
from switchboard.keys.models import ApiKey, UsageRow
from switchboard.keys.tables import to_nanos
from switchboard.observability.usage import BOOKED_WITH_RESULT as LINE_ENDPOINT
from switchboard.pipeline.context import open_context
from switchboard.pricing import cost_usd

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.jobs.registry import TaskRegistry

BATCH_TASK = "batch.run"
MAX_WAITS = 20
LIVE = ("validating", "in_progress", "finalizing")


def _now() -> datetime:
    return datetime.now(UTC)


async def _call(
    ctx: JobContext, line: BatchLine, key: ApiKey | None
) -> tuple[int, Any, Usage | None, float]:
    """One line: (status, body, usage, cost). Refusals that pass (rate limits, a loading
    model) are waited out; other errors are the line's answer, as OpenAI reports them."""
    for _ in range(MAX_WAITS):
        request = open_context(LINE_ENDPOINT, line.request, key=key)
        try:
            reply = await ctx.gateway.pipeline(request)
        except (RateLimited, ServiceNotReady) as exc:
            await asyncio.sleep(min(30.0, exc.retry_after or 1.0))
            continue
        except SwitchboardError as exc:
            return exc.status, error_json(exc), request.usage, _cost(request)
        assert isinstance(reply, ChatResponse)
        return 200, chat_response_json(reply), request.usage, _cost(request)
    return 429, {"error": {"message": "rate limited too long", "type": "rate_limit_error",
                           "param": None, "code": "rate_limited"}}, None, 0.0  # fmt: skip


def _cost(request: Any) -> float:
    if request.usage is None or request.deployment is None:
        return 0.0
    return cost_usd(request.usage, request.deployment.price)


class BatchRun:
    def __init__(
        self, ctx: JobContext, batch: Any, key: ApiKey | None, hold: BatchHold | None
    ) -> None:
        settings = ctx.engine.settings
        self.ctx = ctx
        self.batch = batch
        self.key = key
        self.hold = hold
        self.line_key = replace(key, budget_usd=None) if hold is not None and key else key
        self.store = SqlBatchStore(ctx.engine.store.engine)
        self.lanes = Lanes(ctx.gateway.catalogue, settings.batch_concurrency,
                           settings.batch_interactive_share)  # fmt: skip
        self.stopping = False

    async def line(self, line: BatchLine) -> None:
        async with self.lanes.lane(line.request.model).slot():
            if self.stopping:
                return
            status, body, usage, cost = await _call(self.ctx, line, self.line_key)
        row = None
        if self.key is not None and usage is not None and (status < 400 or usage.total_tokens):
            row = UsageRow(key_id=self.key.id, tenant=self.key.tenant, model=line.request.model,
                           day=_now().date(), requests=1, prompt_tokens=usage.prompt_tokens,
                           completion_tokens=usage.completion_tokens,
                           cached_tokens=usage.cached_tokens, cost_usd=cost)  # fmt: skip
        values = {"batch_id": self.batch.id, "line_no": line.line_no, "custom_id": line.custom_id,
                  "status_code": status, "body": body, "cost_nanousd": to_nanos(cost),
                  "attempt": self.ctx.attempt, "created_at": _now()}  # fmt: skip
        if not await self.store.record_line(values, row):
            return  # a re-run found it recorded: booked and counted then
        self.ctx.engine.metrics.batch_line(status)
        if self.hold is not None:
            await self.hold.book(cost)

    async def watch(self, total: int) -> None:
        """Progress, and whether the owner asked to cancel (checked once a second)."""
        while True:
            await asyncio.sleep(1.0)
            current = await self.store.batch(self.batch.id)
            if current is None or current.status == "cancelling":
                self.stopping = True
            if current is not None:
                finished = current.completed + current.failed
                await self.ctx.progress(100.0 * finished / total)
                if self.hold is not None:
                    per_line = self.ctx.job.payload.get("estimate_micro", 0) / total
                    await self.hold.shrink(self.store, math.ceil(per_line * (total - finished)))

    async def run(self, lines: list[BatchLine]) -> None:
        done = await self.store.done_lines(self.batch.id)
        todo = [line for line in lines if line.line_no not in done]
        watcher = asyncio.create_task(self.watch(len(lines)))
        try:
            await asyncio.gather(*(self.line(line) for line in todo))
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _finish(store: SqlBatchStore, batch: Any, owner: str, cancelled: bool) -> dict[str, Any]:
    now = _now()
    if not cancelled:
        await store.update_batch(batch.id, status="finalizing", finalizing_at=now)
    rows = await store.lines(batch.id)
    ok = [output_line(batch.id, r) for r in rows if r.status_code < 400]
    bad = [output_line(batch.id, r) for r in rows if r.status_code >= 400]
    out = (
        await store.add_file(owner, "batch_output", f"{batch.id}_output.jsonl", jsonl(ok))
        if ok
        else None
    )
    err = (
        await store.add_file(owner, "batch_output", f"{batch.id}_error.jsonl", jsonl(bad))
        if bad
        else None
    )
    final = {"status": "cancelled", "cancelled_at": _now()} if cancelled else {
        "status": "completed", "completed_at": _now()}  # fmt: skip
    await store.update_batch(batch.id, output_file_id=out.id if out else None,
                             error_file_id=err.id if err else None, **final)  # fmt: skip
    return {"batch_id": batch.id, "completed": len(ok), "failed": len(bad), **{
        "status": final["status"]}}  # fmt: skip


def _hold_of(ctx: JobContext, batch: Any, key: ApiKey | None) -> BatchHold | None:
    limits = ctx.gateway.limits
    if key is None or limits is None:
        return None
    from switchboard.pipeline.limits import budget_period

    return batch_hold(limits.spend, key, batch, budget_period(key, batch.created_at))


async def run_batch(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    store = SqlBatchStore(ctx.engine.store.engine)
    batch = await store.batch(payload["batch_id"])
    if batch is None:
        return {"batch_id": payload["batch_id"], "status": "missing"}
    key = await ctx.key()
    hold = _hold_of(ctx, batch, key)
    if batch.status == "validating":
        await store.update_batch(
            batch.id, batches_live(), status="in_progress", in_progress_at=_now()
        )
    batch = await store.batch(batch.id)
    assert batch is not None
    if batch.status in LIVE:
        content = await store.content(batch.input_file_id, batch.owner) or b""
        await BatchRun(ctx, batch, key, hold).run(parse_input(content, batch.endpoint))
    if hold is not None:
        await hold.shrink(store, 0)  # the batch is over: nothing more to hold
    batch = await store.batch(batch.id)
    assert batch is not None
    if batch.status in ("completed", "cancelled"):
        return {"batch_id": batch.id, "status": batch.status}
    return await _finish(store, batch, batch.owner, cancelled=batch.status == "cancelling")


def batches_live() -> Any:
    from switchboard.jobs.batch_tables import batches

    return batches.c.status == "validating"


def install(registry: TaskRegistry, settings: Settings) -> None:
    registry.add(BATCH_TASK, run_batch, max_attempts=10, backoff_s=2.0,
                 soft_limit_s=settings.batch_time_limit_s,
                 hard_limit_s=settings.batch_time_limit_s + 60)  # fmt: skip
