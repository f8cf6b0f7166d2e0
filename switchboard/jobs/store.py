"""The job table's SQL store (SQLite embedded, PostgreSQL distributed): the one source of truth
for a job's state, so that results outlive the broker and a re-delivered message finds out
whether its job already ran.

Every change of state is one conditional UPDATE: a claim succeeds only for a queued job or one
whose lease ran out (its worker died), and only the holder of the latest lease token may record
the outcome, so a job's result is written exactly once however often its message is delivered.
"""

from __future__ import annotations

import builtins
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.jobs.model import FINISHED, Job, JobRequest, JobStatus, new_job_id
from switchboard.jobs.tables import chain_to_json, job_from_row, job_from_values, jobs
from switchboard.keys import engine as db


def _now() -> datetime:
    return datetime.now(UTC)


class SqlJobStore:
    def __init__(self, engine: AsyncEngine, schema: str | None = None) -> None:
        self._engine = engine
        self._schema = schema

    @classmethod
    def from_url(cls, url: str | None, schema: str | None = None) -> SqlJobStore:
        _, kept, engine = db.open_database(url, schema)
        return cls(engine, kept)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def migrate(self) -> None:
        async with self._engine.begin() as conn:
            await db.migrate(conn, self._schema)

    async def aclose(self) -> None:
        await self._engine.dispose()

    async def create(self, req: JobRequest) -> tuple[Job, bool]:
        """The new job, or the owner's job with the same idempotency key; True when new."""
        if req.idempotency_key is not None:
            found = await self.by_idempotency(req.owner, req.idempotency_key)
            if found is not None:
                return found, False
        now = _now()
        values: dict[str, Any] = {
            "id": new_job_id(),
            "kind": req.kind,
            "owner": req.owner,
            "key_id": req.key_id,
            "status": "queued",
            "payload": req.payload,
            "priority": req.priority,
            "attempts": 0,
            "progress": 0.0,
            "idempotency_key": req.idempotency_key,
            "callback_url": req.callback_url,
            "callback_status": "pending" if req.callback_url else None,
            "chain": chain_to_json(req.chain),
            "root_id": req.root_id,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(jobs).values(values))
        except IntegrityError:
            if req.idempotency_key is None:
                raise
            found = await self.by_idempotency(req.owner, req.idempotency_key)
            if found is None:
                raise
            return found, False
        empty = {c.name: None for c in jobs.columns}
        return job_from_values({**empty, **values}), True

    async def by_idempotency(self, owner: str, idempotency_key: str) -> Job | None:
        stmt = select(jobs).where(jobs.c.owner == owner, jobs.c.idempotency_key == idempotency_key)
        return await self._one(stmt)

    async def get(self, job_id: str, owner: str | None = None) -> Job | None:
        """The job; with `owner`, only if that owner's (another owner's job does not exist)."""
        stmt = select(jobs).where(jobs.c.id == job_id)
        if owner is not None:
            stmt = stmt.where(jobs.c.owner == owner)
        return await self._one(stmt)

    async def list(
        self, owner: str, limit: int = 20, after: str | None = None, kind: str | None = None
    ) -> builtins.list[Job]:
        """The owner's jobs, newest first; `after` is the last id of the previous page."""
        stmt = select(jobs).where(jobs.c.owner == owner)
        if kind is not None:
            stmt = stmt.where(jobs.c.kind == kind)
        if after is not None:
            cursor = await self.get(after, owner)
            if cursor is not None:
                stmt = stmt.where(
                    or_(
                        jobs.c.created_at < cursor.created_at,
                        and_(jobs.c.created_at == cursor.created_at, jobs.c.id < cursor.id),
                    )
                )
        stmt = stmt.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return [job_from_row(r) for r in (await conn.execute(stmt)).all()]

    async def claim(self, job_id: str, lease_s: float) -> Job | None:
        """Take a queued job (or one whose worker's lease ran out) and count the attempt."""
        now = _now()
        token = secrets.token_hex(8)
        claimable = or_(
            and_(
                jobs.c.status == "queued",
                or_(jobs.c.not_before.is_(None), jobs.c.not_before <= now),
            ),
            and_(jobs.c.status == "running", jobs.c.lease_until < now),
        )
        stmt = (
            update(jobs)
            .where(jobs.c.id == job_id, claimable)
            .values(
                status="running",
                attempts=jobs.c.attempts + 1,
                lease_token=token,
                lease_until=now + timedelta(seconds=lease_s),
                not_before=None,
                started_at=now,
                updated_at=now,
            )
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(stmt.returning(*jobs.columns))).first()
        return job_from_row(row) if row is not None else None

    async def heartbeat(
        self, job: Job, lease_s: float, progress: float | None = None
    ) -> JobStatus | None:
        """Extend the lease (and record progress); the job's status now, None if it was lost."""
        now = _now()
        values: dict[str, Any] = {"lease_until": now + timedelta(seconds=lease_s)}
        if progress is not None:
            values["progress"] = progress
            values["updated_at"] = now
        stmt = update(jobs).where(*self._held(job)).values(values)
        async with self._engine.begin() as conn:
            if (await conn.execute(stmt)).rowcount == 1:
                return "running"
        current = await self.get(job.id)
        return current.status if current is not None else None

    async def finish(
        self,
        job: Job,
        status: JobStatus,
        result: Any = None,
        error: dict[str, Any] | None = None,
        next_id: str | None = None,
    ) -> bool:
        """Record the outcome once: False when the lease was lost or the job cancelled."""
        assert status in FINISHED
        now = _now()
        values: dict[str, Any] = {
            "next_id": next_id,
            "status": status,
            "result": result,
            "error": error,
            "finished_at": now,
            "updated_at": now,
            "lease_until": None,
        }
        if status == "succeeded":
            values["progress"] = 100.0
        return await self._update(self._held(job), values)

    async def requeue(self, job: Job, delay_s: float, error: dict[str, Any]) -> bool:
        """Put the job back after a retryable failure, to be claimed after `delay_s`."""
        now = _now()
        values = {
            "status": "queued",
            "error": error,
            "lease_token": None,
            "lease_until": None,
            "not_before": now + timedelta(seconds=delay_s),
            "updated_at": now,
        }
        return await self._update(self._held(job), values)

    async def cancel(self, job_id: str, owner: str) -> Job | None:
        """Cancel a queued or running job; a finished one is returned as it is."""
        now = _now()
        where = (
            jobs.c.id == job_id,
            jobs.c.owner == owner,
            jobs.c.status.in_(("queued", "running")),
        )
        values = {"status": "cancelled", "finished_at": now, "updated_at": now, "lease_until": None}
        await self._update(where, values)
        return await self.get(job_id, owner)

    async def dead_letter(self, job: Job, error: dict[str, Any]) -> bool:
        return await self.finish(job, "dead_letter", error=error)

    async def set_fields(self, job_id: str, **values: Any) -> None:
        """Bookkeeping after the outcome (callback status, the chain's next job)."""
        await self._update((jobs.c.id == job_id,), {**values, "updated_at": _now()})

    async def due(self, limit: int) -> builtins.list[str]:
        """Ids of jobs a runner may claim now, highest priority first (embedded runner)."""
        now = _now()
        stmt = (
            select(jobs.c.id)
            .where(
                or_(
                    and_(
                        jobs.c.status == "queued",
                        or_(jobs.c.not_before.is_(None), jobs.c.not_before <= now),
                    ),
                    and_(jobs.c.status == "running", jobs.c.lease_until < now),
                )
            )
            .order_by(jobs.c.priority.desc(), jobs.c.created_at)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [str(r[0]) for r in (await conn.execute(stmt)).all()]

    async def stale(self, limit: int, older_than_s: float) -> builtins.list[Job]:
        """Queued jobs untouched for `older_than_s`, and running ones whose lease ran out; each
        is touched, so one sweep sends it once."""
        now = _now()
        cutoff = now - timedelta(seconds=older_than_s)
        stmt = (
            select(jobs)
            .where(
                or_(
                    and_(jobs.c.status == "queued", jobs.c.updated_at < cutoff),
                    and_(jobs.c.status == "running", jobs.c.lease_until < now),
                )
            )
            .order_by(jobs.c.priority.desc(), jobs.c.created_at)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            found = [job_from_row(r) for r in (await conn.execute(stmt)).all()]
        for job in found:
            if job.status == "queued":
                await self.set_fields(job.id)
        return found

    async def next_wake(self) -> datetime | None:
        """When the earliest delayed or leased job becomes claimable (embedded runner)."""
        live = jobs.c.status.in_(("queued", "running"))
        stmt = select(func.min(jobs.c.not_before), func.min(jobs.c.lease_until)).where(live)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        times = [t for t in (row or ()) if t is not None]
        return min(times) if times else None

    @staticmethod
    def _held(job: Job) -> tuple[Any, ...]:
        return (
            jobs.c.id == job.id,
            jobs.c.status == "running",
            jobs.c.lease_token == job.lease_token,
        )

    async def _update(self, where: tuple[Any, ...], values: dict[str, Any]) -> bool:
        async with self._engine.begin() as conn:
            return (await conn.execute(update(jobs).where(*where).values(values))).rowcount == 1

    async def _one(self, stmt: Any) -> Job | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return job_from_row(row) if row is not None else None
