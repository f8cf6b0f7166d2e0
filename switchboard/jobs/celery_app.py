"""The Celery app, built from Settings (nothing at import time): acks late, rejected back to
the queue when a worker is lost, one message in hand per worker slot, job priorities.

Only the job's id travels through the broker; its state lives in the job table, so a broker
restart loses no result and a re-delivered message finds out whether its job already ran.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from switchboard.jobs.model import Job

if TYPE_CHECKING:
    from celery import Celery

    from switchboard.config import Settings

RUN_JOB = "switchboard.run_job"
PRIORITY_STEPS = list(range(10))


def make_celery(settings: Settings) -> Celery:
    from celery import Celery

    if not settings.jobs_broker_url:
        raise ValueError("jobs_broker_url is not set (no broker: serve runs jobs itself)")
    app = Celery("switchboard", broker=settings.jobs_broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.jobs_queue,
        task_queue_max_priority=10,
        task_default_priority=5,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.jobs_visibility_timeout_s,
            "queue_order_strategy": "priority",
            "priority_steps": PRIORITY_STEPS,
        },
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app


def broker_priority(settings: Settings, priority: int) -> int:
    """Job priority 9 is the most urgent; Redis sorts 0 first, AMQP sorts high first."""
    broker = settings.jobs_broker_url or ""
    return 9 - priority if broker.startswith(("redis", "rediss")) else priority


class CeleryQueue:
    """Hands job ids to Celery workers (the sending client is blocking: a thread carries it)."""

    embedded = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._app: Celery | None = None

    @property
    def app(self) -> Celery:
        if self._app is None:
            self._app = make_celery(self._settings)
        return self._app

    async def enqueue(self, job: Job, delay_s: float = 0.0) -> None:
        options: dict[str, Any] = {
            "args": [job.id],
            "queue": self._settings.jobs_queue,
            "priority": broker_priority(self._settings, job.priority),
        }
        if delay_s > 0:
            options["countdown"] = delay_s
        await asyncio.to_thread(self.app.send_task, RUN_JOB, **options)

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        if self._app is not None:
            await asyncio.to_thread(self._app.close)
