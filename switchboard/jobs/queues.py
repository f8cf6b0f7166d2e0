"""How a job's id reaches whoever runs it: the JobQueue protocol, with the embedded runner
(in-process, over the job table) and Celery (Redis or RabbitMQ broker) behind it."""

from __future__ import annotations

from typing import Protocol

from switchboard.jobs.model import Job


class JobQueue(Protocol):
    embedded: bool  # True: this process runs the jobs itself

    async def enqueue(self, job: Job, delay_s: float = 0.0) -> None: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...
