"""SqlDocumentStore: documents, their chunks and the chunks' embeddings, keyed by owner.

One SQLAlchemy async code path serves SQLite (embedded, the default database) and PostgreSQL
(shared by every replica and worker), on the engine helpers of the key store
(`keys/engine.py`) and in its Alembic chain. Vectors are also kept here (float32 bytes), so the
vector index can always be rebuilt from the database.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.embeddings.base import Vectors
from switchboard.keys import engine as db
from switchboard.rag.chunking import Chunk
from switchboard.rag.models import Document, NewDocument, StoredChunk
from switchboard.rag.tables import document_chunks, documents

_PUBLIC = [c for c in documents.c if c.name != "content"]


def _document(row: Row[Any]) -> Document:
    values = row._asdict()
    values.pop("content", None)
    return Document(**values)


def chunk_id(document_id: str, version: int, ordinal: int) -> str:
    return f"{document_id}:v{version}:{ordinal}"


class SqlDocumentStore:
    """Documents in SQLite (`sqlite:///path`, the default) or PostgreSQL (`postgresql://`)."""

    def __init__(self, url: str | None = None, *, schema: str | None = None) -> None:
        self._url, self._schema, self._engine = db.open_database(url, schema)

    def __repr__(self) -> str:
        return f"SqlDocumentStore({self._url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def migrate(self) -> None:
        async with self._engine.begin() as conn:
            await db.migrate(conn, self._schema)

    async def put(self, owner: str, new: NewDocument) -> Document:
        now = datetime.now(UTC)
        values = {
            "title": new.title,
            "filename": new.filename,
            "format": new.format,
            "content": new.content,
            "content_sha256": hashlib.sha256(new.content).hexdigest(),
            "meta": new.meta,
            "status": "queued",
            "error": None,
            "updated_at": now,
        }
        c = documents.c
        async with self._engine.begin() as conn:
            where = (c.owner == owner) & (c.id == new.id)
            found = await conn.execute(select(c.version).where(where).with_for_update())
            version = found.scalar()
            if version is None:
                row = {"owner": owner, "id": new.id, "version": 1, "indexed_version": None}
                row |= {"chunks": 0, "tokens": 0, "pages": None, "created_at": now}
                await conn.execute(insert(documents).values(**row, **values))
            else:
                stmt = update(documents).where(where).values(version=version + 1, **values)
                await conn.execute(stmt)
            result = await conn.execute(select(*_PUBLIC).where(where))
            return _document(result.one())

    async def get(self, owner: str, document_id: str) -> Document | None:
        c = documents.c
        async with self._engine.connect() as conn:
            stmt = select(*_PUBLIC).where(c.owner == owner, c.id == document_id)
            row = (await conn.execute(stmt)).first()
        return _document(row) if row is not None else None

    async def list(
        self, owner: str, limit: int = 100, after: str | None = None
    ) -> builtins.list[Document]:
        c = documents.c
        stmt = select(*_PUBLIC).where(c.owner == owner)
        if after is not None:
            stmt = stmt.where(c.id > after)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(c.id).limit(limit))).all()
        return [_document(r) for r in rows]

    async def delete(self, owner: str, document_id: str) -> builtins.list[str] | None:
        k = document_chunks.c
        async with self._engine.begin() as conn:
            where = (documents.c.owner == owner) & (documents.c.id == document_id)
            gone = await conn.execute(delete(documents).where(where))
            if gone.rowcount == 0:
                return None
            mine = (k.owner == owner) & (k.document_id == document_id)
            ids = (await conn.execute(select(k.chunk_id).where(mine))).scalars().all()
            await conn.execute(delete(document_chunks).where(mine))
        return builtins.list(ids)

    async def content(self, owner: str, document_id: str, version: int) -> bytes | None:
        c = documents.c
        stmt = select(c.content).where(c.owner == owner, c.id == document_id, c.version == version)
        async with self._engine.connect() as conn:
            found = (await conn.execute(stmt)).scalar()
        return bytes(found) if found is not None else None

    async def replace_chunks(
        self,
        owner: str,
        document_id: str,
        version: int,
        chunks: Sequence[Chunk],
        pages: int,
        title: str | None = None,
    ) -> None:
        """Idempotent: a retried step rewrites the same version's chunks (status `chunked`;
        `title`, when given, is the one found in the document)."""
        k = document_chunks.c
        rows = [
            {
                "owner": owner,
                "chunk_id": chunk_id(document_id, version, ch.ordinal),
                "document_id": document_id,
                "version": version,
                "ordinal": ch.ordinal,
                "page": ch.page,
                "text": ch.text,
                "tokens": ch.tokens,
                "embedding": None,
            }
            for ch in chunks
        ]
        async with self._engine.begin() as conn:
            mine = (k.owner == owner) & (k.document_id == document_id) & (k.version == version)
            await conn.execute(delete(document_chunks).where(mine))
            if rows:
                await conn.execute(insert(document_chunks), rows)
            values: dict[str, Any] = {"pages": pages, "status": "chunked", "error": None}
            if title is not None:
                values["title"] = title[:500]
            await conn.execute(
                update(documents)
                .where(documents.c.owner == owner, documents.c.id == document_id)
                .where(documents.c.version == version)
                .values(updated_at=datetime.now(UTC), **values)
            )

    async def unembedded(
        self, owner: str, document_id: str, version: int, limit: int
    ) -> builtins.list[tuple[str, str]]:
        k = document_chunks.c
        stmt = (
            select(k.chunk_id, k.text)
            .where(k.owner == owner, k.document_id == document_id, k.version == version)
            .where(k.embedding.is_(None))
            .order_by(k.ordinal)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [(r.chunk_id, r.text) for r in await conn.execute(stmt)]

    async def set_embeddings(self, owner: str, ids: Sequence[str], vectors: Vectors) -> None:
        k = document_chunks.c
        blobs = np.ascontiguousarray(vectors, dtype=np.float32)
        async with self._engine.begin() as conn:
            for cid, row in zip(ids, blobs, strict=True):
                stmt = update(document_chunks).where(k.owner == owner, k.chunk_id == cid)
                await conn.execute(stmt.values(embedding=row.tobytes()))

    async def vectors(
        self, owner: str, document_id: str, version: int
    ) -> tuple[builtins.list[str], Vectors]:
        k = document_chunks.c
        stmt = (
            select(k.chunk_id, k.embedding)
            .where(k.owner == owner, k.document_id == document_id, k.version == version)
            .where(k.embedding.is_not(None))
            .order_by(k.ordinal)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        if not rows:
            return [], np.empty((0, 0), dtype=np.float32)
        matrix = np.stack([np.frombuffer(r.embedding, dtype=np.float32) for r in rows])
        return [r.chunk_id for r in rows], matrix

    async def promote(
        self, owner: str, document_id: str, version: int
    ) -> builtins.list[str] | None:
        k = document_chunks.c
        c = documents.c
        async with self._engine.begin() as conn:
            mine = (k.owner == owner) & (k.document_id == document_id)
            totals = await conn.execute(
                select(func.count(), func.coalesce(func.sum(k.tokens), 0)).where(
                    mine, k.version == version
                )
            )
            count, tokens = totals.one()
            done = await conn.execute(
                update(documents)
                .where(c.owner == owner, c.id == document_id, c.version == version)
                .values(
                    indexed_version=version,
                    status="ready",
                    error=None,
                    chunks=count,
                    tokens=tokens,
                    updated_at=datetime.now(UTC),
                )
            )
            if done.rowcount == 0:  # superseded meanwhile: the newer version promotes itself
                return None
            old = (k.version != version) & mine
            ids = (await conn.execute(select(k.chunk_id).where(old))).scalars().all()
            await conn.execute(delete(document_chunks).where(old))
        return builtins.list(ids)

    async def set_status(
        self, owner: str, document_id: str, version: int, status: str, error: str | None = None
    ) -> None:
        c = documents.c
        async with self._engine.begin() as conn:
            await conn.execute(
                update(documents)
                .where(c.owner == owner, c.id == document_id, c.version == version)
                .values(status=status, error=error, updated_at=datetime.now(UTC))
            )

    async def chunks(self, owner: str, chunk_ids: Sequence[str]) -> builtins.list[StoredChunk]:
        if not chunk_ids:
            return []
        k, c = document_chunks.c, documents.c
        stmt = (
            select(k.chunk_id, k.document_id, c.title, k.page, k.text)
            .join(documents, (c.owner == k.owner) & (c.id == k.document_id))
            .where(k.owner == owner, k.chunk_id.in_(builtins.list(chunk_ids)))
            .where(k.version == c.indexed_version)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [StoredChunk(r.chunk_id, r.document_id, r.title, r.page, r.text) for r in rows]

    async def promoted_since(
        self, since: datetime | None
    ) -> builtins.list[tuple[str, str, int, datetime]]:
        c = documents.c
        stmt = select(c.owner, c.id, c.indexed_version, c.updated_at).where(
            c.status == "ready", c.indexed_version.is_not(None)
        )
        if since is not None:
            stmt = stmt.where(c.updated_at >= since)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(c.updated_at))).all()
        return [(r.owner, r.id, int(r.indexed_version), r.updated_at) for r in rows]

    async def served_vectors(
        self, batch: int = 1000
    ) -> AsyncIterator[tuple[str, builtins.list[str], Vectors]]:
        k, c = document_chunks.c, documents.c
        stmt = (
            select(k.owner, k.chunk_id, k.embedding)
            .join(documents, (c.owner == k.owner) & (c.id == k.document_id))
            .where(k.version == c.indexed_version, k.embedding.is_not(None))
            .order_by(k.owner, k.chunk_id)
        )
        async with self._engine.connect() as conn:
            result = await conn.stream(stmt)
            async for rows in result.partitions(batch):
                by_owner: dict[str, builtins.list[Any]] = {}
                for row in rows:
                    by_owner.setdefault(row.owner, []).append(row)
                for owner, mine in by_owner.items():
                    vectors = np.stack([np.frombuffer(r.embedding, dtype=np.float32) for r in mine])
                    yield owner, [r.chunk_id for r in mine], vectors

    async def aclose(self) -> None:
        await self._engine.dispose()
