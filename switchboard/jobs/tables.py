"""The job and feedback tables (SQLAlchemy Core), on the key store's metadata so that one chain
of Alembic migrations (`keys/migrations/`) builds every table Switchboard keeps in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table, Text
from sqlalchemy.engine import Row

from switchboard.jobs.model import ChainStep, Job
from switchboard.keys.tables import UtcDateTime, metadata

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(100), nullable=False),
    Column("owner", String(500), nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("progress", Float, nullable=False),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("callback_url", String(2000), nullable=True),
    Column("callback_status", String(16), nullable=True),
    Column("chain", JSON, nullable=True),
    Column("root_id", String(40), nullable=True),
    Column("next_id", String(40), nullable=True),
    Column("lease_token", String(40), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("not_before", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_jobs_owner_created", "owner", "created_at"),
    Index("ix_jobs_owner_idempotency", "owner", "idempotency_key", unique=True),
    Index("ix_jobs_status_priority", "status", "priority"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(500), nullable=False),
    Column("response_id", String(200), nullable=False),
    Column("score", Float, nullable=True),
    Column("label", String(100), nullable=True),
    Column("comment", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_feedback_owner_response", "owner", "response_id"),
)


def chain_to_json(chain: tuple[ChainStep, ...]) -> list[dict[str, Any]] | None:
    return [{"kind": s.kind, "payload": s.payload} for s in chain] or None


def job_from_row(row: Row[Any]) -> Job:
    return job_from_values(row._mapping)


def job_from_values(m: Mapping[Any, Any]) -> Job:
    steps = tuple(ChainStep(s["kind"], s.get("payload") or {}) for s in (m["chain"] or ()))
    return Job(
        **{name: m[name] for name in _PLAIN},
        chain=steps,
    )


_PLAIN = tuple(c.name for c in jobs.columns if c.name != "chain")
