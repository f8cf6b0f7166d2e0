"""The key-hash pepper when SWITCHBOARD_KEY_PEPPER is unset: generated on first start and kept
in the database (`key_settings`), so that every replica and the CLI hash keys alike.

Keys made before the database had a pepper were stored as plain SHA-256. If the pepper is
generated over a table that already holds keys, that moment is recorded; such a key is then
found once by its old hash and re-hashed with the pepper (see SqlKeyStore.authenticate).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.keys.tables import UPSERT_INSERTS, api_keys, key_settings

PEPPER = "key_pepper"
UNPEPPERED_BEFORE = "unpeppered_keys_before"
PEPPER_BYTES = 32


@dataclass(frozen=True)
class StoredPepper:
    pepper: str
    unpeppered_before: datetime | None  # keys created before this may hold plain SHA-256


async def _read(conn: AsyncConnection) -> dict[str, str]:
    result = await conn.execute(select(key_settings.c.name, key_settings.c.value))
    return {name: value for name, value in result}


async def load_or_create(conn: AsyncConnection) -> StoredPepper:
    """The database's pepper, created first if there is none (concurrent starters agree: the
    first insert wins and everyone reads it back)."""
    values = await _read(conn)
    if PEPPER not in values:
        rows = [{"name": PEPPER, "value": secrets.token_urlsafe(PEPPER_BYTES)}]
        if (await conn.execute(select(api_keys.c.id).limit(1))).first() is not None:
            rows.append({"name": UNPEPPERED_BEFORE, "value": datetime.now(UTC).isoformat()})
        insert = UPSERT_INSERTS[conn.dialect.name](key_settings)
        await conn.execute(insert.on_conflict_do_nothing(index_elements=["name"]), rows)
        values = await _read(conn)
    before = values.get(UNPEPPERED_BEFORE)
    return StoredPepper(values[PEPPER], datetime.fromisoformat(before) if before else None)
