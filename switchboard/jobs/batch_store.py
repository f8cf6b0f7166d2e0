"""Files, batches and batch lines in SQL (the job store's engine). `record_line` writes a
line's result, its usage and the batch's counters in one transaction, once."""

from __future__ import annotations

import builtins
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.jobs.batch_tables import batch_lines, batches, files
from switchboard.keys.models import UsageRow
from switchboard.keys.store import USAGE_KEY, USAGE_SUMS, merge_usage
from switchboard.keys.tables import UPSERT_INSERTS, usage_daily


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


class SqlBatchStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add_file(self, owner: str, purpose: str, filename: str, content: bytes) -> Row[Any]:
        values = {
            "id": new_id("file-"),
            "owner": owner,
            "purpose": purpose,
            "filename": filename[:500],
            "bytes": len(content),
            "content": content,
            "created_at": datetime.now(UTC),
        }
        async with self._engine.begin() as conn:
            await conn.execute(insert(files).values(values))
        found = await self.file(str(values["id"]), owner)
        assert found is not None
        return found

    async def file(self, file_id: str, owner: str) -> Row[Any] | None:
        """The file's description (no content); None if absent or another owner's."""
        cols = [c for c in files.c if c.name != "content"]
        stmt = select(*cols).where(files.c.id == file_id, files.c.owner == owner)
        async with self._engine.connect() as conn:
            return (await conn.execute(stmt)).first()

    async def content(self, file_id: str, owner: str) -> bytes | None:
        stmt = select(files.c.content).where(files.c.id == file_id, files.c.owner == owner)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return bytes(row[0]) if row is not None else None

    async def add_batch(self, values: dict[str, Any]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(batches).values(values))

    async def batch(self, batch_id: str, owner: str | None = None) -> Row[Any] | None:
        stmt = select(batches).where(batches.c.id == batch_id)
        if owner is not None:
            stmt = stmt.where(batches.c.owner == owner)
        async with self._engine.connect() as conn:
            return (await conn.execute(stmt)).first()

    async def batches(self, owner: str, limit: int, after: str | None) -> builtins.list[Row[Any]]:
        stmt = select(batches).where(batches.c.owner == owner)
        cursor = await self.batch(after, owner) if after else None
        if cursor is not None:
            stmt = stmt.where(
                or_(
                    batches.c.created_at < cursor.created_at,
                    and_(batches.c.created_at == cursor.created_at, batches.c.id < cursor.id),
                )
            )
        stmt = stmt.order_by(batches.c.created_at.desc(), batches.c.id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return list((await conn.execute(stmt)).all())

    async def update_batch(self, batch_id: str, *where: Any, **values: Any) -> bool:
        stmt = update(batches).where(batches.c.id == batch_id, *where).values(values)
        async with self._engine.begin() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def done_lines(self, batch_id: str) -> set[int]:
        stmt = select(batch_lines.c.line_no).where(batch_lines.c.batch_id == batch_id)
        async with self._engine.connect() as conn:
            return {int(r[0]) for r in (await conn.execute(stmt)).all()}

    async def lines(self, batch_id: str) -> builtins.list[Row[Any]]:
        stmt = (
            select(batch_lines)
            .where(batch_lines.c.batch_id == batch_id)
            .order_by(batch_lines.c.line_no)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(stmt)).all())

    async def record_line(self, values: dict[str, Any], usage: UsageRow | None) -> bool:
        """The line's result, its usage and the batch's counts, in one transaction; False
        (and nothing booked) when the line was already recorded."""
        dialect = self._engine.dialect.name
        add = UPSERT_INSERTS[dialect](batch_lines).values(values).on_conflict_do_nothing()
        counter = "completed" if values["status_code"] < 400 else "failed"
        async with self._engine.begin() as conn:
            if (await conn.execute(add)).rowcount != 1:
                return False
            bump = {counter: batches.c[counter] + 1}
            await conn.execute(
                update(batches).where(batches.c.id == values["batch_id"]).values(bump)
            )
            if usage is not None:
                stmt = UPSERT_INSERTS[dialect](usage_daily)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[usage_daily.c[name] for name in USAGE_KEY],
                    set_={name: usage_daily.c[name] + stmt.excluded[name] for name in USAGE_SUMS},
                )
                await conn.execute(stmt, merge_usage([usage]))
        return True

    async def line_cost_nanos(self, batch_id: str) -> int:
        stmt = select(func.coalesce(func.sum(batch_lines.c.cost_nanousd), 0)).where(
            batch_lines.c.batch_id == batch_id
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())
