"""Migrations: idempotent, and they build exactly the schema that tables.py describes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from switchboard.jobs import batch_tables as _batch_tables  # noqa: F401  (join metadata)
from switchboard.jobs import tables as _job_tables  # noqa: F401  (its tables join metadata)
from switchboard.keys import NewKey, SqlKeyStore
from switchboard.keys.engine import HEAD_REVISION, MIGRATIONS
from switchboard.keys.tables import metadata
from switchboard.rag import tables as _rag_tables  # noqa: F401  (its tables join `metadata`)

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
    assert names == {
        "api_keys",
        "usage_daily",
        "usage_sessions",
        "key_settings",
        "documents",
        "document_chunks",
        "jobs",
        "feedback",
        "files",
        "batches",
        "batch_lines",
        VERSION_TABLE,
    }


def test_head_revision_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


UP_TO_DATE_START = """
import asyncio, sys
from switchboard.keys.store import SqlKeyStore

async def main():
    store = SqlKeyStore(sys.argv[1])
    await store.migrate()
    await store.aclose()

asyncio.run(main())
print("alembic" in sys.modules)
"""


def test_starting_on_an_up_to_date_database_never_imports_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"

    def start() -> str:
        done = subprocess.run(
            [sys.executable, "-c", UP_TO_DATE_START, url], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert start() == "True"  # a fresh database is migrated
    assert start() == "False"  # an up-to-date one is only read


def test_the_command_line_parser_imports_no_database_code() -> None:
    code = (
        "import sys; from switchboard.cli import parser; parser(); "
        "print([m for m in ('alembic', 'sqlalchemy') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
