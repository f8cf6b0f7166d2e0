"""Migrations: idempotent, and they build exactly the schema that tables.py describes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from switchboard.keys import NewKey, SqlKeyStore
from switchboard.keys.tables import metadata

StoreFactory = Callable[..., SqlKeyStore]

VERSION_TABLE = "switchboard_keys_version"


def _schema_diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
    )
    return list(compare_metadata(context, metadata))


async def test_migrate_twice_and_from_another_process(
    store: SqlKeyStore, open_store: StoreFactory
) -> None:
    plaintext, key = await store.create(NewKey(name="n", tenant="t"))
    await store.migrate()
    again = open_store()
    await again.migrate()
    assert await again.authenticate(plaintext) == key


async def test_migrations_match_the_tables(store: SqlKeyStore) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert names == {"api_keys", "usage_daily", VERSION_TABLE}
