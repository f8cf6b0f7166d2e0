"""A job as clients see it (`GET /v1/tasks/{id}`, webhook bodies): no lease internals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.jobs.model import Job


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "object": "task",
        "kind": job.kind,
        "status": job.status,
        "progress": round(job.progress, 2),
        "result": job.result,
        "error": job.error if job.status in ("failed", "dead_letter") else None,
        "last_error": job.error if job.status in ("queued", "running") else None,
        "attempts": job.attempts,
        "priority": job.priority,
        "callback_url": job.callback_url,
        "callback_status": job.callback_status,
        "root_id": job.root_id,
        "next_id": job.next_id,
        "created_at": _ts(job.created_at),
        "started_at": _ts(job.started_at),
        "finished_at": _ts(job.finished_at),
        "updated_at": _ts(job.updated_at),
    }
