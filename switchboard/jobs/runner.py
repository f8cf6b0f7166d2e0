"""Running one job by id: claim it, run its task under its lease and time limits, record the
outcome once. The embedded runner and the Celery task both call `execute`; they differ only in
how they learn which id to run and when to try again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from switchboard.jobs.context import JobContext
from switchboard.jobs.errors import JobCancelled, TimeLimitExceeded, error_body, is_retryable
from switchboard.jobs.model import Job, JobRequest, JobStatus
from switchboard.jobs.registry import TaskSpec

if TYPE_CHECKING:
    from switchboard.jobs.engine import JobEngine

log = logging.getLogger("switchboard.jobs")
WEBHOOK_TASK = "switchboard.webhook"


@dataclass(frozen=True)
class Outcome:
    """done: nothing more to do for this id; retry: ask again after `delay_s`."""

    state: Literal["done", "retry"]
    delay_s: float = 0.0


DONE = Outcome("done")


async def execute(engine: JobEngine, job_id: str) -> Outcome:
    store = engine.store
    job = await store.claim(job_id, engine.lease_s)
    if job is None:
        return await _not_claimed(engine, job_id)
    spec = engine.registry.get(job.kind)
    if spec is None:
        if await store.finish(job, "failed", error={"type": "UnknownTask", "message": job.kind}):
            engine.metrics.job_finished(job.kind, "failed")
        return DONE
    if job.attempts > spec.max_attempts:
        error = {"type": "DeadLetter", "message": f"gave up after {spec.max_attempts} attempts"}
        if job.error:
            error["last_error"] = job.error.get("message", "")
        if await store.dead_letter(job, error):
            engine.metrics.job_finished(job.kind, "dead_letter")
            await _after_finish(engine, job)
        return DONE
    return await _run(engine, job, spec)


async def _not_claimed(engine: JobEngine, job_id: str) -> Outcome:
    """Someone else holds a live lease, or the job waits for its backoff: ask again later."""
    current = await engine.store.get(job_id)
    if current is None or current.finished:
        return DONE
    now = datetime.now(UTC)
    if current.status == "queued" and current.not_before is not None:
        return Outcome("retry", max(0.05, (current.not_before - now).total_seconds()))
    if current.lease_until is not None:
        return Outcome("retry", max(0.05, (current.lease_until - now).total_seconds()))
    return Outcome("retry", engine.lease_s)


async def _run(engine: JobEngine, job: Job, spec: TaskSpec) -> Outcome:
    store = engine.store
    started = time.perf_counter()
    work = asyncio.ensure_future(_limited(spec, JobContext(job, engine), job.payload))
    keeper = asyncio.ensure_future(_keep_lease(engine, job, work))
    overran = False
    try:
        await asyncio.wait({work}, timeout=spec.hard_limit_s)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        if not work.done():
            overran = True  # past the hard limit (or the runner itself is stopping)
            work.cancel()
        engine.metrics.attempt_ran(job.kind, time.perf_counter() - started)
    if overran:
        limit = TimeLimitExceeded(f"ran past its hard time limit of {spec.hard_limit_s:g} s")
        return await _failed(engine, job, spec, limit)
    if work.cancelled():
        return DONE  # the keeper cancelled it: the owner cancelled the job
    if (exc := work.exception()) is not None:
        if isinstance(exc, JobCancelled):
            return DONE
        if not isinstance(exc, Exception):
            raise exc
        return await _failed(engine, job, spec, exc)
    next_id = await _chain_next(engine, job, work.result())  # idempotent: a re-run finds it
    if await store.finish(job, "succeeded", result=work.result(), next_id=next_id):
        engine.metrics.job_finished(job.kind, "succeeded")
        await _after_finish(engine, job)
    return DONE


async def _limited(spec: TaskSpec, ctx: JobContext, payload: dict[str, Any]) -> Any:
    if spec.soft_limit_s is None:
        return await spec.fn(ctx, payload)
    try:
        async with asyncio.timeout(spec.soft_limit_s):
            return await spec.fn(ctx, payload)
    except TimeoutError as exc:
        raise TimeLimitExceeded(f"ran past its time limit of {spec.soft_limit_s:g} s") from exc


async def _keep_lease(engine: JobEngine, job: Job, work: asyncio.Future[Any]) -> None:
    """Extend the lease while the task runs; cancel the task if the owner cancelled the job."""
    while not work.done():
        await asyncio.sleep(engine.lease_s / 3)
        try:
            status = await engine.store.heartbeat(job, engine.lease_s)
        except Exception:  # the database blinked: the lease has two more beats to go
            log.warning("job %s: lease not extended", job.id, exc_info=True)
            continue
        if status != "running":
            work.cancel()
            return


async def _failed(engine: JobEngine, job: Job, spec: TaskSpec, exc: Exception) -> Outcome:
    error = error_body(exc)
    if is_retryable(exc) and job.attempts < spec.max_attempts:
        delay = spec.backoff(job.attempts)
        if await engine.store.requeue(job, delay, error):
            engine.metrics.job_retried(job.kind)
            log.info("job %s (%s) retried in %.1f s: %s", job.id, job.kind, delay, error["type"])
            return Outcome("retry", delay)
        return DONE
    status: JobStatus = "dead_letter" if is_retryable(exc) else "failed"
    log.warning("job %s (%s) %s: %s", job.id, job.kind, status, error["type"])
    if await engine.store.finish(job, status, error=error):
        engine.metrics.job_finished(job.kind, status)
        await _after_finish(engine, job)
    return DONE


async def _chain_next(engine: JobEngine, job: Job, result: Any) -> str | None:
    if not job.chain:
        return None
    step, rest = job.chain[0], job.chain[1:]
    follow = await engine.submit(
        JobRequest(
            kind=step.kind,
            owner=job.owner,
            key_id=job.key_id,
            payload={**step.payload, "previous": result},
            priority=job.priority,
            chain=rest,
            root_id=job.root_id or job.id,
            idempotency_key=f"chain:{job.id}",  # a re-run of this step submits it once
        )
    )
    return follow.id


async def _after_finish(engine: JobEngine, job: Job) -> None:
    """Call the job's webhook, as a job of its own (retried with backoff, then failed)."""
    if job.callback_url is None or job.kind == WEBHOOK_TASK:
        return
    await engine.submit(
        JobRequest(
            kind=WEBHOOK_TASK,
            owner=job.owner,
            payload={"job_id": job.id},
            idempotency_key=f"webhook:{job.id}",
            priority=job.priority,
        )
    )
