"""A key store per test, over SQLite (tmp_path) and the real PostgreSQL (own schema, dropped).

PostgreSQL comes from SWITCHBOARD_TEST_POSTGRES_URL; when nothing answers there its tests skip,
or fail under CI (see switchboard.testing.services).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import make_url, text

from switchboard.keys.store import SqlKeyStore
from switchboard.testing.services import postgres_url, require_or_skip

PEPPER = "test-pepper"
POSTGRES_URL = postgres_url()

StoreFactory = Callable[..., SqlKeyStore]


async def _postgres_reachable() -> bool:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    try:
        conn = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@pytest.fixture(params=["sqlite", "postgresql"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Opens stores on one database (one SQLite file, or one fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'keys.db'}", None
    else:
        if not await _postgres_reachable():
            require_or_skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
        url, schema = POSTGRES_URL, f"t_keys_{uuid.uuid4().hex[:12]}"
    opened: list[SqlKeyStore] = []

    def factory(**kw: Any) -> SqlKeyStore:
        kw.setdefault("pepper", PEPPER)
        store = SqlKeyStore(url, schema=schema, **kw)
        opened.append(store)
        return store

    yield factory
    if schema is not None and opened:
        async with opened[0].engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    for store in opened:
        await store.aclose()


@pytest.fixture
def pepper() -> str:
    return PEPPER


@pytest.fixture
async def store(open_store: StoreFactory) -> SqlKeyStore:
    store = open_store()
    await store.migrate()
    return store
