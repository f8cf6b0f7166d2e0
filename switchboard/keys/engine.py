"""Database URLs, engines and migrations for the key store (SQLite or PostgreSQL, async).

`sqlite:///x.db` or a bare path becomes `sqlite+aiosqlite`, `postgresql://` becomes
`postgresql+asyncpg://`. On PostgreSQL an optional schema isolates one deployment (or one test
run) from another: it is the connections' search_path and `migrate` creates it.

Alembic is imported only when the database is behind HEAD_REVISION: a gateway starting against
an up-to-date database reads one row of the version table and goes on.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, event, inspect, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_DATABASE_URL = "sqlite:///./switchboard.db"
MIGRATIONS = Path(__file__).parent / "migrations"
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
ALIASES = {"postgres": "postgresql"}
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
SQLITE_BUSY_TIMEOUT_MS = 10_000
VERSION_TABLE = "switchboard_keys_version"
HEAD_REVISION = "0007"
"""The newest file in migrations/versions (a test checks that they agree)."""


def async_url(url: str | None) -> URL:
    raw = url or DEFAULT_DATABASE_URL
    if "://" not in raw:
        return URL.create("sqlite+aiosqlite", database=raw)
    parsed = make_url(raw)
    name = ALIASES.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=ASYNC_DRIVERS.get(name, name))


def check_schema(schema: str) -> str:
    if not SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"schema must match {SCHEMA_NAME.pattern}: {schema!r}")
    return schema


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; the busy timeout queues concurrent writers."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def build_engine(url: URL, schema: str | None) -> AsyncEngine:
    """Create the engine; nothing connects until first use. SQL parameters (key hashes) are
    kept out of logs and error messages."""
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        if url.get_driver_name() != "asyncpg":
            raise ValueError("a schema needs the asyncpg driver")
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(
        url, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args
    )


def open_database(url: str | None, schema: str | None) -> tuple[URL, str | None, AsyncEngine]:
    """The async URL, the schema (kept on PostgreSQL only, validated) and the engine of a
    store on this chain of migrations."""
    parsed = async_url(url)
    is_postgres = parsed.get_backend_name() == "postgresql"
    kept = check_schema(schema) if schema is not None and is_postgres else None
    return parsed, kept, build_engine(parsed, kept)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: never migrated); reads, never writes."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    row = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return str(row[0]) if row is not None else None


def _upgrade_head(connection: Connection) -> None:
    if current_revision(connection) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(conn: AsyncConnection, schema: str | None) -> None:
    """Upgrade to the latest revision; replicas starting together take turns (PostgreSQL lock)."""
    if conn.dialect.name == "postgresql":
        lock_id = zlib.crc32(f"switchboard.keys:{schema or ''}".encode())
        await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        if schema is not None:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    await conn.run_sync(_upgrade_head)
