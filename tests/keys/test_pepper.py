"""Without SWITCHBOARD_KEY_PEPPER, key hashes are still HMACs: the pepper is generated once,
kept in the database for every replica, and keys stored unpeppered before keep working."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select

from switchboard.keys import NewKey, SqlKeyStore
from switchboard.keys.models import ApiKey
from switchboard.keys.pepper import PEPPER, UNPEPPERED_BEFORE
from switchboard.keys.secrets import display_prefix, generate_key
from switchboard.keys.tables import api_keys, key_settings, key_values

StoreFactory = Callable[..., SqlKeyStore]


async def _settings(store: SqlKeyStore) -> dict[str, str]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(key_settings.c.name, key_settings.c.value))
        return {name: value for name, value in rows}


async def _stored_hash(store: SqlKeyStore, key_id: str) -> str:
    async with store.engine.connect() as conn:
        query = select(api_keys.c.key_hash).where(api_keys.c.id == key_id)
        return str((await conn.execute(query)).scalar_one())


async def _insert_unpeppered(store: SqlKeyStore, created_at: datetime) -> tuple[str, ApiKey]:
    """A key as the gateway stored it before it had a pepper: plain SHA-256."""
    plaintext = generate_key()
    key = ApiKey(
        id=uuid.uuid4().hex, name="old", tenant="acme", prefix=display_prefix(plaintext),
        allowed_models=None, rpm=None, tpm=None, max_concurrency=None, budget_usd=None,
        budget_period="total", expires_at=None, revoked_at=None, created_at=created_at,
    )  # fmt: skip
    values = key_values(key, hashlib.sha256(plaintext.encode()).hexdigest())
    async with store.engine.begin() as conn:
        await conn.execute(insert(api_keys).values(**values))
    return plaintext, key


async def test_without_a_pepper_one_is_generated_and_shared(open_store: StoreFactory) -> None:
    first = open_store(pepper=None)
    await first.migrate()
    plaintext, key = await first.create(NewKey(name="n", tenant="t"))
    pepper = (await _settings(first))[PEPPER]
    assert len(pepper) >= 43
    stored = await _stored_hash(first, key.id)
    assert stored != hashlib.sha256(plaintext.encode()).hexdigest()
    assert stored == hmac.new(pepper.encode(), plaintext.encode(), hashlib.sha256).hexdigest()

    replica = open_store(pepper=None)
    await replica.migrate()
    assert await replica.authenticate(plaintext) == key
    assert (await _settings(replica))[PEPPER] == pepper
    assert UNPEPPERED_BEFORE not in await _settings(replica)  # the table was empty


async def test_a_configured_pepper_wins_over_the_stored_one(open_store: StoreFactory) -> None:
    generated = open_store(pepper=None)
    await generated.migrate()
    configured = open_store(pepper="from-env")
    plaintext, key = await configured.create(NewKey(name="n", tenant="t"))
    expected = hmac.new(b"from-env", plaintext.encode(), hashlib.sha256).hexdigest()
    assert await _stored_hash(configured, key.id) == expected
    assert await generated.authenticate(plaintext) is None


async def test_keys_stored_unpeppered_keep_working_and_are_rehashed(
    open_store: StoreFactory,
) -> None:
    store = open_store(pepper=None)
    await store.migrate()
    async with store.engine.begin() as conn:  # back to a database from before the pepper
        await conn.execute(delete(key_settings))
    old_plaintext, old = await _insert_unpeppered(store, datetime.now(UTC) - timedelta(days=1))

    upgraded = open_store(pepper=None)
    await upgraded.migrate()
    assert UNPEPPERED_BEFORE in await _settings(upgraded)
    assert await upgraded.authenticate(old_plaintext) == old
    pepper = (await _settings(upgraded))[PEPPER].encode()
    rehashed = hmac.new(pepper, old_plaintext.encode(), hashlib.sha256).hexdigest()
    assert await _stored_hash(upgraded, old.id) == rehashed
    assert await open_store(pepper=None).authenticate(old_plaintext) == old

    late_plaintext, _ = await _insert_unpeppered(store, datetime.now(UTC) + timedelta(days=1))
    assert await upgraded.authenticate(late_plaintext) is None  # only keys from before
