"""JobEngine: submit, read, list and cancel jobs; built from Settings with the embedded runner
(no broker) or Celery (a broker URL) behind the same calls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from switchboard.errors import InvalidRequest
from switchboard.jobs.depth import QueueDepth
from switchboard.jobs.idempotency import FINGERPRINT, Idempotency, replayed
from switchboard.jobs.installed import install_tasks
from switchboard.jobs.model import Job, JobRequest
from switchboard.jobs.queues import JobQueue
from switchboard.jobs.registry import TaskRegistry
from switchboard.jobs.store import SqlJobStore
from switchboard.jobs.webhooks import check_target
from switchboard.observability.job_metrics import JobMetrics

if TYPE_CHECKING:
    from switchboard.config import Settings
    from switchboard.gateway import Gateway

log = logging.getLogger("switchboard.jobs")


class JobEngine:
    def __init__(
        self,
        settings: Settings,
        store: SqlJobStore,
        queue: JobQueue,
        registry: TaskRegistry,
        metrics: JobMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue
        self.registry = registry
        self.metrics = metrics if metrics is not None else JobMetrics(CollectorRegistry())
        self.depth = QueueDepth(
            store.engine, registry.names, self.metrics.queue, settings.jobs_gauges_cache_s
        )
        self.lease_s = settings.jobs_lease_s
        self._gateway: Gateway | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    def build(cls, settings: Settings, metrics: JobMetrics | None = None) -> JobEngine:
        store = SqlJobStore.from_url(settings.database_url, settings.database_schema)
        registry = TaskRegistry()
        install_tasks(registry, settings)
        queue: JobQueue
        if settings.jobs_broker_url:
            from switchboard.jobs.celery_app import CeleryQueue

            queue = CeleryQueue(settings)
        else:
            from switchboard.jobs.embedded import EmbeddedRunner

            queue = EmbeddedRunner(settings.jobs_concurrency, settings.jobs_poll_s)
        engine = cls(settings, store, queue, registry, metrics)
        if hasattr(queue, "bind"):
            queue.bind(engine)
        return engine

    def bind(self, gateway: Gateway) -> None:
        self._gateway = gateway

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("the job engine is used before its Gateway is bound")
        return self._gateway

    async def start(self) -> None:
        await self.store.migrate()
        await self.queue.start()

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.queue.aclose()
        await self.store.aclose()

    async def submit(self, req: JobRequest) -> Job:
        """Store the job (or find the owner's job with the same idempotency key) and hand it
        to a runner. A broker that is away does not lose it: the sweeper sends it later."""
        if req.kind not in self.registry:
            raise InvalidRequest(f"unknown task kind {req.kind!r}", param="kind")
        if req.callback_url is not None:
            await check_target(req.callback_url, self.settings)
        job, new = await self.store.create(req)
        if not new:
            return replayed(job, req.kind, req.payload.get(FINGERPRINT))
        self.metrics.job_submitted(job.kind)
        try:
            await self.queue.enqueue(job)
        except Exception:
            log.warning("job %s stored but not sent; the sweeper will send it", job.id)
        return job

    async def earlier(self, owner: str, idem: Idempotency | None, kind: str) -> Job | None:
        """The owner's job made by an earlier request with this key (409 if that request was
        a different one), for routes that do work before they submit (batches, documents)."""
        if idem is None:
            return None
        job = await self.store.by_idempotency(owner, idem.key)
        return None if job is None else replayed(job, kind, idem.fingerprint)

    async def get(self, job_id: str, owner: str) -> Job | None:
        return await self.store.get(job_id, owner)

    async def list(
        self, owner: str, limit: int = 20, after: str | None = None, kind: str | None = None
    ) -> list[Job]:
        return await self.store.list(owner, limit, after, kind)

    async def cancel(self, job_id: str, owner: str) -> Job | None:
        return await self.store.cancel(job_id, owner)

    def start_sweeper(self) -> None:
        """Workers: send again the jobs whose message was lost (a crash between storing and
        sending) or whose worker died (its lease ran out). Duplicates are harmless: a claim
        succeeds once."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="job-sweeper")

    async def _sweep_forever(self) -> None:
        interval = self.settings.jobs_sweep_s
        while True:
            await asyncio.sleep(interval)
            try:
                for job in await self.store.stale(100, older_than_s=interval * 4):
                    await self.queue.enqueue(job)
            except Exception:
                log.warning("job sweeper: pass failed", exc_info=True)
