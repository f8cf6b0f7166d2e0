"""The embedded runner: `switchboard serve` with no broker runs jobs itself, from the same
job table (SQLite or PostgreSQL) and with the same task code as a Celery worker.

Why not Celery over kombu's SQLAlchemy transport: that needs a second process (the worker) and
a polling broker table beside the job table. Here the job table is the queue: submitting wakes
the runner, which claims due jobs by priority with the store's conditional UPDATE; a job
accepted before a restart is still `queued` in the table, or `running` with a lease its dead
runner no longer extends, and the next `serve` takes it (at once, or when the lease runs out).
Several `serve --workers` processes share the table the same way: a claim succeeds once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from switchboard.jobs.model import Job
from switchboard.jobs.runner import execute

if TYPE_CHECKING:
    from switchboard.jobs.engine import JobEngine

log = logging.getLogger("switchboard.jobs")


class EmbeddedRunner:
    embedded = True

    def __init__(self, concurrency: int, poll_s: float) -> None:
        self._concurrency = concurrency
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[object]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._engine: JobEngine | None = None

    def bind(self, engine: JobEngine) -> None:
        self._engine = engine

    async def enqueue(self, job: Job, delay_s: float = 0.0) -> None:
        self._wake.set()

    async def start(self) -> None:
        assert self._engine is not None
        self._loop_task = asyncio.create_task(self._loop(self._engine), name="job-runner")

    async def aclose(self) -> None:
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _loop(self, engine: JobEngine) -> None:
        while True:
            self._wake.clear()
            free = self._concurrency - len(self._running)
            try:
                due = await engine.store.due(free + len(self._running)) if free > 0 else []
            except Exception:  # the database is away: try again later
                log.warning("embedded runner: cannot read the job table", exc_info=True)
                due = []
            for job_id in due:
                if job_id not in self._running and len(self._running) < self._concurrency:
                    task = asyncio.create_task(execute(engine, job_id))
                    self._running[job_id] = task
                    task.add_done_callback(partial(self._done, job_id))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(await self._sleep_s(engine)):
                    await self._wake.wait()

    def _done(self, job_id: str, _task: object) -> None:
        self._running.pop(job_id, None)
        self._wake.set()

    async def _sleep_s(self, engine: JobEngine) -> float:
        if len(self._running) >= self._concurrency:
            return self._poll_s  # full: a finishing job wakes the loop, a due one must wait
        try:
            wake = await engine.store.next_wake()
        except Exception:
            return self._poll_s
        if wake is None:
            return self._poll_s
        return max(0.01, min(self._poll_s, (wake - datetime.now(UTC)).total_seconds()))
