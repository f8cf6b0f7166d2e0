"""JobContext: what a running task gets besides its payload (the job, the process's services,
progress reporting that notices cancellation, and submitting follow-up jobs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from switchboard.jobs.errors import JobCancelled
from switchboard.jobs.model import Job, JobRequest

if TYPE_CHECKING:
    from switchboard.gateway import Gateway
    from switchboard.jobs.engine import JobEngine
    from switchboard.keys.models import ApiKey


@dataclass
class JobContext:
    job: Job
    engine: JobEngine

    @property
    def gateway(self) -> Gateway:
        """The process's Gateway: its pipeline, internal calls and stores."""
        return self.engine.gateway

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def final_attempt(self) -> bool:
        spec = self.engine.registry.get(self.job.kind)
        return spec is None or self.job.attempts >= spec.max_attempts

    async def progress(self, percent: float) -> None:
        """Record progress (0-100); raises JobCancelled when the owner cancelled the job."""
        status = await self.engine.store.heartbeat(
            self.job, self.engine.lease_s, max(0.0, min(100.0, percent))
        )
        if status != "running":
            raise JobCancelled(self.job.id)

    async def key(self) -> ApiKey | None:
        """The key that created the job, for its model calls (None when keys are off)."""
        if self.job.key_id is None or self.gateway.keys is None:
            return None
        return await self.gateway.keys.get(self.job.key_id)

    async def submit(self, kind: str, payload: dict[str, Any], **options: Any) -> Job:
        """A follow-up job with the same owner and key."""
        req = JobRequest(
            kind=kind, owner=self.job.owner, key_id=self.job.key_id, payload=payload, **options
        )
        return await self.engine.submit(req)
