"""The KeyStore contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from switchboard.keys import NewKey, SqlKeyStore, UsageRow
from switchboard.keys.tables import api_keys

StoreFactory = Callable[..., SqlKeyStore]

DAY = date(2025, 3, 10)


def new_key(**kw: object) -> NewKey:
    fields: dict[str, object] = {"name": "ci", "tenant": "acme", **kw}
    return NewKey(**fields)  # type: ignore[arg-type]


async def test_create_then_authenticate(store: SqlKeyStore) -> None:
    plaintext, key = await store.create(new_key(rpm=60, budget_usd=12.5, budget_period="daily"))
    assert plaintext.startswith("sk-sb-") and len(plaintext) == 6 + 43
    assert key.prefix == plaintext[:12]
    assert len(key.id) == 32 and key.created_at.tzinfo is not None
    found = await store.authenticate(plaintext)
    assert found == key
    assert await store.get(key.id) == key
    assert found is not None and found.status(datetime.now(UTC)) == "active"
    assert (found.rpm, found.budget_usd, found.budget_period) == (60, 12.5, "daily")


async def test_wrong_and_malformed_keys_are_unknown(store: SqlKeyStore) -> None:
    plaintext, _ = await store.create(new_key())
    tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    for candidate in (tampered, "", "sk-sb-short", "Bearer " + plaintext, plaintext + "x"):
        assert await store.authenticate(candidate) is None
    assert await store.get("0" * 32) is None


async def test_another_pepper_matches_nothing(store: SqlKeyStore, open_store: StoreFactory) -> None:
    plaintext, _ = await store.create(new_key())
    other = open_store(pepper="another-pepper")
    assert await other.authenticate(plaintext) is None


async def test_revoke_keeps_the_record_and_the_first_time(store: SqlKeyStore) -> None:
    plaintext, key = await store.create(new_key())
    assert await store.authenticate(plaintext) is not None  # now cached
    assert await store.revoke(key.id) is True
    revoked = await store.authenticate(plaintext)
    assert revoked is not None and revoked.status(datetime.now(UTC)) == "revoked"
    first = revoked.revoked_at
    assert await store.revoke(key.id) is True
    again = await store.get(key.id)
    assert again is not None and again.revoked_at == first
    assert await store.revoke("no-such-key") is False


async def test_expired_key_is_returned_with_its_status(store: SqlKeyStore) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    plaintext, _ = await store.create(new_key(expires_at=past))
    found = await store.authenticate(plaintext)
    assert found is not None and found.status(datetime.now(UTC)) == "expired"
    assert found.expires_at == past
    assert found.status(past - timedelta(days=1)) == "active"


async def test_list_by_tenant_and_without_revoked(store: SqlKeyStore) -> None:
    _, a = await store.create(new_key(name="a", tenant="acme"))
    _, b = await store.create(new_key(name="b", tenant="acme"))
    _, c = await store.create(new_key(name="c", tenant="globex"))
    await store.revoke(b.id)
    assert [k.id for k in await store.list()] == [a.id, b.id, c.id]
    assert [k.id for k in await store.list(tenant="acme")] == [a.id, b.id]
    assert [k.id for k in await store.list(tenant="acme", include_revoked=False)] == [a.id]
    assert await store.list(tenant="initech") == []


async def test_allowed_models_round_trip(store: SqlKeyStore) -> None:
    _, everything = await store.create(new_key())
    _, some = await store.create(new_key(allowed_models=("gpt-4o", "claude")))
    _, nothing = await store.create(new_key(allowed_models=()))
    keys = {k.id: k for k in await store.list()}
    assert keys[everything.id].allowed_models is None
    assert keys[everything.id].allows_model("anything")
    assert keys[some.id].allowed_models == ("gpt-4o", "claude")
    assert keys[some.id].allows_model("claude") and not keys[some.id].allows_model("gpt-4")
    assert keys[nothing.id].allowed_models == () and not keys[nothing.id].allows_model("gpt-4o")


async def test_table_never_holds_the_plaintext(store: SqlKeyStore, pepper: str) -> None:
    plaintext, key = await store.create(new_key())
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(api_keys).where(api_keys.c.id == key.id))).one()
    secret = plaintext[len("sk-sb-") :]
    for value in row:
        assert secret[6:] not in str(value)
    expected = hmac.new(pepper.encode(), plaintext.encode(), hashlib.sha256).hexdigest()
    assert row.key_hash == expected


async def test_cache_sees_other_replicas_revoke_after_ttl(
    store: SqlKeyStore, open_store: StoreFactory
) -> None:
    now = [0.0]
    replica = open_store(cache_ttl_s=5.0, clock=lambda: now[0])
    plaintext, key = await store.create(new_key())
    assert (await replica.authenticate(plaintext)) == key
    await store.revoke(key.id)
    now[0] = 4.9
    cached = await replica.authenticate(plaintext)
    assert cached is not None and cached.revoked_at is None
    now[0] = 5.0
    fresh = await replica.authenticate(plaintext)
    assert fresh is not None and fresh.revoked_at is not None


async def test_concurrent_usage_sums_exactly(store: SqlKeyStore) -> None:
    row = UsageRow("k1", "acme", "gpt-4o", DAY, 1, 7, 3, cost_usd=1.23e-4)
    other = UsageRow("k1", "acme", "claude", DAY, cached_tokens=2, cost_usd=1e-9)
    await asyncio.gather(*(store.record_usage([row, other]) for _ in range(50)))
    rows = {r.model: r for r in await store.usage()}
    assert rows["gpt-4o"] == UsageRow(
        "k1",
        "acme",
        "gpt-4o",
        DAY,
        requests=50,
        prompt_tokens=350,
        completion_tokens=150,
        cost_usd=0.00615,
    )
    assert rows["claude"].cached_tokens == 100 and rows["claude"].cost_usd == 5e-8
    assert await store.spend("k1", None) == 0.00615 + 5e-8


async def test_one_batch_may_repeat_a_row(store: SqlKeyStore) -> None:
    row = UsageRow("k1", "acme", "m", DAY, prompt_tokens=1, cost_usd=0.5)
    await store.record_usage([row, row, row])
    await store.record_usage([])
    (stored,) = await store.usage()
    assert (stored.requests, stored.prompt_tokens, stored.cost_usd) == (3, 3, 1.5)


async def test_usage_filters_and_spend(store: SqlKeyStore) -> None:
    days = [DAY + timedelta(days=i) for i in range(3)]
    await store.record_usage(
        [UsageRow("k1", "acme", "m1", d, cost_usd=1.0) for d in days]
        + [UsageRow("k1", "acme", "m2", days[1], cost_usd=0.25)]
        + [UsageRow("k2", "globex", "m1", d, cost_usd=10.0) for d in days]
    )
    assert len(await store.usage()) == 7
    assert {r.key_id for r in await store.usage(tenant="globex")} == {"k2"}
    mine = await store.usage(key_id="k1", since=days[1], until=days[1])
    assert [(r.day, r.model) for r in mine] == [(days[1], "m1"), (days[1], "m2")]
    assert [r.day for r in await store.usage(key_id="k2", until=days[0])] == [days[0]]
    assert await store.spend("k1", None) == 3.25
    assert await store.spend("k1", days[1]) == 2.25
    assert await store.spend("k2", days[2]) == 10.0
    assert await store.spend("nobody", None) == 0.0


async def test_operations_never_log_the_key(
    store: SqlKeyStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    plaintext, key = await store.create(new_key())
    await store.authenticate(plaintext)
    await store.authenticate(plaintext[:-2] + "xx")
    await store.list()
    await store.revoke(key.id)
    assert caplog.records, "expected some log output to inspect"
    assert plaintext not in caplog.text and plaintext[12:] not in caplog.text
