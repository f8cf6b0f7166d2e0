"""The KeyStore protocol and its SQL implementation (SQLite embedded, PostgreSQL distributed).

One SQLAlchemy async code path serves both databases; the only dialect-specific piece is the
`INSERT ... ON CONFLICT DO UPDATE` construct, taken from a registry by dialect name.
"""

from __future__ import annotations

import builtins
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.config import Settings
from switchboard.keys import engine as db
from switchboard.keys.cache import KeyCache
from switchboard.keys.models import ApiKey, NewKey, UsageRow
from switchboard.keys.pepper import load_or_create
from switchboard.keys.secrets import KeyHasher, display_prefix, generate_key, looks_like_key
from switchboard.keys.tables import (
    UPSERT_INSERTS,
    USAGE_COUNTERS,
    api_keys,
    key_from_row,
    key_values,
    to_nanos,
    to_usd,
    usage_daily,
    usage_from_row,
    usage_sessions,
)

log = logging.getLogger("switchboard.keys")

USAGE_KEY = ("key_id", "tenant", "model", "day")
USAGE_SUMS = (*USAGE_COUNTERS, "cost_nanousd", "saved_nanousd")
SESSION_KEY = (*USAGE_KEY, "session_id", "user_id")


class KeyStore(Protocol):
    async def migrate(self) -> None: ...

    async def create(self, new: NewKey) -> tuple[str, ApiKey]: ...

    async def authenticate(self, plaintext: str) -> ApiKey | None: ...

    async def get(self, key_id: str) -> ApiKey | None: ...

    async def list(
        self, tenant: str | None = None, include_revoked: bool = True
    ) -> builtins.list[ApiKey]: ...

    async def revoke(self, key_id: str) -> bool: ...

    async def record_usage(self, rows: Sequence[UsageRow]) -> None: ...

    async def usage(
        self,
        key_id: str | None = None,
        tenant: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> builtins.list[UsageRow]: ...

    async def spend(self, key_id: str, since: date | None) -> float: ...

    async def session_usage(
        self,
        session_id: str | None = None,
        user_id: str | None = None,
        tenant: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> builtins.list[UsageRow]: ...

    async def aclose(self) -> None: ...


def _merge(rows: Sequence[UsageRow], key: tuple[str, ...]) -> builtins.list[dict[str, Any]]:
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        ident = tuple(getattr(row, name) for name in key)
        acc = merged.setdefault(ident, dict(zip(key, ident, strict=True)))
        for name in USAGE_COUNTERS:
            acc[name] = acc.get(name, 0) + getattr(row, name)
        acc["cost_nanousd"] = acc.get("cost_nanousd", 0) + to_nanos(row.cost_usd)
        acc["saved_nanousd"] = acc.get("saved_nanousd", 0) + to_nanos(row.saved_usd)
    return [merged[ident] for ident in sorted(merged)]


def merge_usage(rows: Sequence[UsageRow]) -> builtins.list[dict[str, Any]]:
    """One parameter set per (key, tenant, model, day), sorted so that concurrent batches lock
    rows in the same order (PostgreSQL would refuse the same row twice in one statement)."""
    return _merge(rows, USAGE_KEY)


def merge_session_usage(rows: Sequence[UsageRow]) -> builtins.list[dict[str, Any]]:
    """As `merge_usage`, per session and user, for the rows whose caller named either."""
    return _merge([r for r in rows if r.session_id or r.user_id], SESSION_KEY)


class SqlKeyStore:
    """Keys and usage in SQLite (`sqlite:///path`, the default) or PostgreSQL (`postgresql://`).

    `schema` (PostgreSQL only) keeps the tables in their own schema; SQLite ignores it.
    `pepper` (SWITCHBOARD_KEY_PEPPER) keys the HMAC of stored key hashes; without one, the
    database's own pepper is used, generated on first use (see keys/pepper.py).
    `authenticate` answers from an in-process cache for `cache_ttl_s` seconds: a key revoked by
    another process may keep working here for up to that long.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        pepper: str | None = None,
        schema: str | None = None,
        cache_ttl_s: float = 5.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url, self._schema, self._engine = db.open_database(url, schema)
        self._hasher = KeyHasher(pepper) if pepper else None
        self._unpeppered_before: datetime | None = None
        self._cache = KeyCache(cache_ttl_s, cache_size, clock)

    @classmethod
    def from_settings(cls, settings: Settings) -> SqlKeyStore:
        pepper = settings.key_pepper.get_secret_value() if settings.key_pepper else None
        return cls(settings.database_url, pepper=pepper, schema=settings.database_schema)

    def __repr__(self) -> str:
        return f"SqlKeyStore({self._url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def migrate(self) -> None:
        """Bring the tables to the latest revision, and load (or create) the pepper."""
        async with self._engine.begin() as conn:
            await db.migrate(conn, self._schema)
        await self._ready_hasher()

    async def _ready_hasher(self) -> KeyHasher:
        if self._hasher is None:
            async with self._engine.begin() as conn:
                stored = await load_or_create(conn)
            self._unpeppered_before = stored.unpeppered_before
            self._hasher = KeyHasher(stored.pepper)
        return self._hasher

    async def create(self, new: NewKey) -> tuple[str, ApiKey]:
        plaintext = generate_key()
        key = ApiKey(
            id=uuid.uuid4().hex,
            name=new.name,
            tenant=new.tenant,
            prefix=display_prefix(plaintext),
            allowed_models=new.allowed_models,
            rpm=new.rpm,
            tpm=new.tpm,
            max_concurrency=new.max_concurrency,
            budget_usd=_exact_usd(new.budget_usd),
            budget_period=new.budget_period,
            expires_at=new.expires_at.astimezone(UTC) if new.expires_at else None,
            revoked_at=None,
            created_at=datetime.now(UTC),
        )
        values = key_values(key, (await self._ready_hasher()).hash(plaintext))
        async with self._engine.begin() as conn:
            await conn.execute(insert(api_keys).values(**values))
        log.info("created api key id=%s tenant=%s name=%s", key.id, key.tenant, key.name)
        return plaintext, key

    async def authenticate(self, plaintext: str) -> ApiKey | None:
        """The key's record (revoked and expired ones too, so callers can say which) or None."""
        if not looks_like_key(plaintext):
            return None
        hasher = await self._ready_hasher()
        key_hash = hasher.hash(plaintext)
        cached = self._cache.get(key_hash)
        if cached is not None:
            return cached
        async with self._engine.connect() as conn:
            result = await conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))
            row = result.first()
        if row is None and self._unpeppered_before is not None:
            row = await self._rehash_unpeppered(plaintext, key_hash, self._unpeppered_before)
        if row is None or not hasher.matches(plaintext, row.key_hash):
            return None
        key = key_from_row(row)
        self._cache.put(key_hash, key)
        return key

    async def _rehash_unpeppered(
        self, plaintext: str, key_hash: str, before: datetime
    ) -> Row[Any] | None:
        """A key stored as plain SHA-256 before the pepper existed: store its peppered hash."""
        c = api_keys.c
        old = KeyHasher(None).hash(plaintext)
        async with self._engine.begin() as conn:
            stmt = update(api_keys).where(c.key_hash == old, c.created_at < before)
            if (await conn.execute(stmt.values(key_hash=key_hash))).rowcount != 1:
                return None
            log.info("re-hashed an unpeppered api key with the pepper")
            return (await conn.execute(select(api_keys).where(c.key_hash == key_hash))).first()

    async def get(self, key_id: str) -> ApiKey | None:
        async with self._engine.connect() as conn:
            result = await conn.execute(select(api_keys).where(api_keys.c.id == key_id))
            row = result.first()
        return key_from_row(row) if row is not None else None

    async def list(
        self, tenant: str | None = None, include_revoked: bool = True
    ) -> builtins.list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if tenant is not None:
            query = query.where(api_keys.c.tenant == tenant)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [key_from_row(row) for row in result]

    async def revoke(self, key_id: str) -> bool:
        """Revoke now (a second revoke keeps the first time); False if there is no such key."""
        stmt = (
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(revoked_at=func.coalesce(api_keys.c.revoked_at, datetime.now(UTC)))
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt)
        self._cache.forget(key_id)
        found = result.rowcount == 1
        if found:
            log.info("revoked api key id=%s", key_id)
        return found

    async def record_usage(self, rows: Sequence[UsageRow]) -> None:
        """Add each row's counters to its (key, tenant, model, day) total, atomically."""
        params = merge_usage(rows)
        if not params:
            return
        stmt = UPSERT_INSERTS[self._engine.dialect.name](usage_daily)
        stmt = stmt.on_conflict_do_update(
            index_elements=[usage_daily.c[name] for name in USAGE_KEY],
            set_={name: usage_daily.c[name] + stmt.excluded[name] for name in USAGE_SUMS},
        )
        sessions = merge_session_usage(rows)
        async with self._engine.begin() as conn:
            await conn.execute(stmt, params)
            if sessions:
                await conn.execute(self._session_upsert(), sessions)

    def _session_upsert(self) -> Any:
        stmt = UPSERT_INSERTS[self._engine.dialect.name](usage_sessions)
        return stmt.on_conflict_do_update(
            index_elements=[usage_sessions.c[name] for name in SESSION_KEY],
            set_={name: usage_sessions.c[name] + stmt.excluded[name] for name in USAGE_SUMS},
        )

    async def session_usage(
        self,
        session_id: str | None = None,
        user_id: str | None = None,
        tenant: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> builtins.list[UsageRow]:
        """Usage rows of one session or end user (or both), by day, key and model."""
        c = usage_sessions.c
        query = select(usage_sessions).where(*_usage_filters(None, tenant, since, until, c))
        if session_id is not None:
            query = query.where(c.session_id == session_id)
        if user_id is not None:
            query = query.where(c.user_id == user_id)
        query = query.order_by(c.day, c.key_id, c.model, c.session_id, c.user_id).limit(10_000)
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [usage_from_row(row) for row in result]

    async def usage(
        self,
        key_id: str | None = None,
        tenant: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> builtins.list[UsageRow]:
        """Daily rows, `since` and `until` both inclusive, ordered by day, key and model."""
        query = select(usage_daily).where(*_usage_filters(key_id, tenant, since, until))
        query = query.order_by(usage_daily.c.day, usage_daily.c.key_id, usage_daily.c.model)
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [usage_from_row(row) for row in result]

    async def spend(self, key_id: str, since: date | None) -> float:
        """USD spent by the key from `since` (inclusive; None: ever)."""
        total = func.coalesce(func.sum(usage_daily.c.cost_nanousd), 0)
        query = select(total).where(*_usage_filters(key_id, None, since, None))
        async with self._engine.connect() as conn:
            nanos = (await conn.execute(query)).scalar_one()
        return to_usd(int(nanos))

    async def aclose(self) -> None:
        await self._engine.dispose()


def _exact_usd(usd: float | None) -> float | None:
    """The value as it will read back from the table (whole nano-dollars)."""
    return to_usd(to_nanos(usd)) if usd is not None else None


def _usage_filters(
    key_id: str | None,
    tenant: str | None,
    since: date | None,
    until: date | None,
    c: Any = usage_daily.c,
) -> builtins.list[ColumnElement[bool]]:
    filters: builtins.list[ColumnElement[bool]] = []
    if key_id is not None:
        filters.append(c.key_id == key_id)
    if tenant is not None:
        filters.append(c.tenant == tenant)
    if since is not None:
        filters.append(c.day >= since)
    if until is not None:
        filters.append(c.day <= until)
    return filters
