"""The key and usage tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Money is stored as integer nano-dollars: sums stay exact on both databases (SQLite has no exact
decimal type), and a one-token request on a cheap model still costs a whole number of units.
The migrations in `migrations/versions/` must produce exactly this schema (a test compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    TypeDecorator,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from switchboard.keys.models import ApiKey, BudgetPeriod, UsageRow

NANOS_PER_USD = 1_000_000_000
UPSERT_INSERTS: dict[str, Callable[..., Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}
"""`INSERT ... ON CONFLICT`, the one dialect-specific construct, by dialect name."""


def to_nanos(usd: float) -> int:
    return round(usd * NANOS_PER_USD)


def to_usd(nanos: int) -> float:
    return nanos / NANOS_PER_USD


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite too (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetime: pass an aware one")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("tenant", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("allowed_models", JSON, nullable=True),
    Column("rpm", Integer, nullable=True),
    Column("tpm", BigInteger, nullable=True),
    Column("max_concurrency", Integer, nullable=True),
    Column("budget_nanousd", BigInteger, nullable=True),
    Column("budget_period", String(16), nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_api_keys_key_hash", "key_hash", unique=True),
    Index("ix_api_keys_tenant", "tenant"),
)

usage_daily = Table(
    "usage_daily",
    metadata,
    Column("key_id", String(32), nullable=False),
    Column("tenant", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Column("day", Date, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cached_tokens", BigInteger, nullable=False),
    Column("cost_nanousd", BigInteger, nullable=False),
    Column("cache_hits", BigInteger, nullable=False, server_default="0"),
    Column("saved_nanousd", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("key_id", "tenant", "model", "day", name="pk_usage_daily"),
    Index("ix_usage_daily_tenant_day", "tenant", "day"),
    Index("ix_usage_daily_day", "day"),
)

usage_sessions = Table(
    "usage_sessions",
    metadata,
    Column("key_id", String(32), nullable=False),
    Column("tenant", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Column("day", Date, nullable=False),
    Column("session_id", String(128), nullable=False),  # "": the caller named a user only
    Column("user_id", String(128), nullable=False),  # "": the caller named a session only
    Column("requests", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cached_tokens", BigInteger, nullable=False),
    Column("cost_nanousd", BigInteger, nullable=False),
    Column("cache_hits", BigInteger, nullable=False, server_default="0"),
    Column("saved_nanousd", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint(
        "key_id", "tenant", "model", "day", "session_id", "user_id", name="pk_usage_sessions"
    ),
    Index("ix_usage_sessions_session", "session_id"),
    Index("ix_usage_sessions_user_day", "user_id", "day"),
)
"""Usage of the requests whose caller named a session or an end user (Helicone-style
`*-Session-Id` / `*-User-Id` headers, Langfuse-style `metadata`), per day; the daily totals
stay in `usage_daily`."""

key_settings = Table(
    "key_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

USAGE_COUNTERS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_hits",  # requests the reply cache answered (free)
)


def key_values(key: ApiKey, key_hash: str) -> dict[str, Any]:
    budget = to_nanos(key.budget_usd) if key.budget_usd is not None else None
    models = list(key.allowed_models) if key.allowed_models is not None else None
    return {
        "id": key.id,
        "name": key.name,
        "tenant": key.tenant,
        "prefix": key.prefix,
        "key_hash": key_hash,
        "allowed_models": models,
        "rpm": key.rpm,
        "tpm": key.tpm,
        "max_concurrency": key.max_concurrency,
        "budget_nanousd": budget,
        "budget_period": key.budget_period,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "created_at": key.created_at,
    }


def key_from_row(row: Row[Any]) -> ApiKey:
    m = row._mapping
    models = m["allowed_models"]
    budget = m["budget_nanousd"]
    return ApiKey(
        id=m["id"],
        name=m["name"],
        tenant=m["tenant"],
        prefix=m["prefix"],
        allowed_models=tuple(models) if models is not None else None,
        rpm=m["rpm"],
        tpm=m["tpm"],
        max_concurrency=m["max_concurrency"],
        budget_usd=to_usd(budget) if budget is not None else None,
        budget_period=cast(BudgetPeriod, m["budget_period"]),
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        created_at=m["created_at"],
    )


def usage_from_row(row: Row[Any]) -> UsageRow:
    m = row._mapping
    return UsageRow(
        key_id=m["key_id"],
        tenant=m["tenant"],
        model=m["model"],
        day=m["day"],
        **{name: int(m[name]) for name in USAGE_COUNTERS},
        cost_usd=to_usd(int(m["cost_nanousd"])),
        saved_usd=to_usd(int(m["saved_nanousd"])),
        session_id=m.get("session_id", ""),
        user_id=m.get("user_id", ""),
    )
