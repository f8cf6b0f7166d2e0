"""The queue gauges' reader: one grouped query on the job table's (status, priority) index,
run at most once every `jobs_gauges_cache_s` however many scrapes arrive, answered from the
shared table so every replica reports the cluster's queue, not its own."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.jobs.tables import jobs
from switchboard.keys.tables import UtcDateTime
from switchboard.observability.job_metrics import QueueGauges, QueueRow

log = logging.getLogger("switchboard.jobs")
READ_TIMEOUT_S = 2.0  # a slow database must not hold the scrape


async def read_depth(engine: AsyncEngine, kinds: list[str]) -> tuple[QueueRow, ...]:
    """Per kind (every registered one, zeros included): queued, running, and how long the
    oldest due queued job has waited (since it was stored, or since its backoff ended)."""
    now = datetime.now(UTC)
    due = and_(
        jobs.c.status == "queued", or_(jobs.c.not_before.is_(None), jobs.c.not_before <= now)
    )
    since = func.min(
        case((due, func.coalesce(jobs.c.not_before, jobs.c.created_at))), type_=UtcDateTime()
    )
    stmt = (
        select(jobs.c.kind, jobs.c.status, func.count(), since)
        .where(jobs.c.status.in_(("queued", "running")))
        .group_by(jobs.c.kind, jobs.c.status)
    )
    async with engine.connect() as conn:
        found = (await conn.execute(stmt)).all()
    counts: dict[str, dict[str, int]] = {k: {"queued": 0, "running": 0} for k in kinds}
    oldest: dict[str, float] = {}
    for kind, status, count, first in found:
        counts.setdefault(kind, {"queued": 0, "running": 0})[status] = int(count)
        if first is not None:
            oldest[kind] = max(0.0, (now - first).total_seconds())
    return tuple(
        QueueRow(kind, c["queued"], c["running"], oldest.get(kind, 0.0))
        for kind, c in sorted(counts.items())
    )


class QueueDepth:
    def __init__(
        self,
        engine: AsyncEngine,
        kinds: Callable[[], list[str]],
        gauges: QueueGauges,
        cache_s: float,
    ) -> None:
        self._engine = engine
        self._kinds = kinds
        self._gauges = gauges
        self._cache_s = cache_s
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the table again if the last reading is older than the cache; a failed read
        empties the gauges and sets switchboard_jobs_table_up to 0."""
        if time.monotonic() < self._fresh_until:
            return
        async with self._lock:
            if time.monotonic() < self._fresh_until:
                return  # another scrape read it while this one waited
            try:
                async with asyncio.timeout(READ_TIMEOUT_S):
                    rows = await read_depth(self._engine, self._kinds())
            except Exception:
                log.warning("queue gauges: cannot read the job table", exc_info=True)
                self._gauges.update((), up=False)
            else:
                self._gauges.update(rows)
            self._fresh_until = time.monotonic() + self._cache_s
