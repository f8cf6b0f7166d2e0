"""A document store per test, over SQLite (tmp_path) and the real PostgreSQL (own schema,
dropped after); and a PDF maker for the parser tests (reportlab, of the `export` extra)."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from switchboard.rag.sql_store import SqlDocumentStore
from switchboard.testing.services import accepts_connections, postgres_url, require_or_skip


@pytest.fixture(params=["sqlite", "postgresql"])
async def doc_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqlDocumentStore]:
    if request.param == "sqlite":
        store = SqlDocumentStore(f"sqlite:///{tmp_path / 'docs.db'}")
    else:
        if not accepts_connections(postgres_url()):
            require_or_skip(f"PostgreSQL not reachable at {postgres_url()}")
        schema = f"t_rag_{uuid.uuid4().hex[:12]}"
        store = SqlDocumentStore(postgres_url(), schema=schema)
    await store.migrate()
    yield store
    if request.param == "postgresql":
        async with store.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await store.aclose()


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A real PDF, one page per string (reportlab writes it, pypdf reads it back)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    if title is not None:
        pdf.setTitle(title)
    for body in pages:
        y = 800
        for line in body.split("\n"):
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return out.getvalue()
