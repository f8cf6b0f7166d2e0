"""What a job is, as plain dataclasses (no I/O): its status, its record and how it is asked for."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "dead_letter"]
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "dead_letter"})
CallbackStatus = Literal["pending", "delivered", "failed"]


def new_job_id() -> str:
    return f"task_{secrets.token_hex(12)}"


@dataclass(frozen=True)
class ChainStep:
    """A job to submit when the one before it succeeds (its result arrives as `previous`)."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRequest:
    """What a caller asks for; the engine adds the id, the status and the timestamps."""

    kind: str
    owner: str
    payload: dict[str, Any] = field(default_factory=dict)
    key_id: str | None = None  # the key whose limits and budget the job's model calls use
    idempotency_key: str | None = None
    callback_url: str | None = None
    priority: int = 5  # 0 (lowest) .. 9 (highest)
    chain: tuple[ChainStep, ...] = ()
    root_id: str | None = None  # the first job of a chain

    def __post_init__(self) -> None:
        if not 0 <= self.priority <= 9:
            raise ValueError("priority must be between 0 and 9")


@dataclass(frozen=True)
class Job:
    """A stored job. `lease_token` changes with every claim, so only the latest claimant may
    record the outcome; `attempts` counts claims, re-deliveries after a lost worker included."""

    id: str
    kind: str
    owner: str
    key_id: str | None
    status: JobStatus
    payload: dict[str, Any]
    priority: int
    attempts: int
    progress: float
    result: Any
    error: dict[str, Any] | None
    idempotency_key: str | None
    callback_url: str | None
    callback_status: CallbackStatus | None
    chain: tuple[ChainStep, ...]
    root_id: str | None
    next_id: str | None
    lease_token: str | None
    lease_until: datetime | None
    not_before: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
