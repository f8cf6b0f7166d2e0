"""The admin HTTP API over a real store: master-key guard, keys shown once, usage reports."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from switchboard.api import admin_routes
from switchboard.api.errors import install_error_handlers
from switchboard.config import Settings
from switchboard.keys import SqlKeyStore, UsageRow

MASTER = "sk-master-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {MASTER}"}


def build_app(store: SqlKeyStore, master_key: str | None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(admin_routes.router)
    settings = Settings(master_key=SecretStr(master_key) if master_key is not None else None)
    app.state.gateway = SimpleNamespace(keys=store, settings=settings)
    return app


@pytest.fixture
async def client(store: SqlKeyStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(build_app(store, MASTER))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/admin/keys", json={"name": "n", "tenant": "acme", **body}, headers=AUTH
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": MASTER},
        {"Authorization": "Bearer é".encode("latin-1")},
    ],
)
async def test_master_key_is_required(client: httpx.AsyncClient, headers: dict[str, Any]) -> None:
    for method, path in (("GET", "/admin/keys"), ("POST", "/admin/keys"), ("GET", "/admin/usage")):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("master", [None, ""])
async def test_admin_api_absent_without_master_key(store: SqlKeyStore, master: str | None) -> None:
    transport = httpx.ASGITransport(build_app(store, master))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.get("/admin/keys", headers={"Authorization": "Bearer "})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_create_shows_the_key_once(client: httpx.AsyncClient, store: SqlKeyStore) -> None:
    created = await create(
        client,
        allowed_models=["gpt-4o"],
        rpm=10,
        budget_usd=5,
        budget_period="monthly",
        expires_at="2999-01-01T00:00:00+02:00",
    )
    plaintext, record = created["key"], created["api_key"]
    assert plaintext.startswith("sk-sb-") and record["prefix"] == plaintext[:12]
    assert record["status"] == "active" and record["allowed_models"] == ["gpt-4o"]
    assert record["expires_at"] == "2998-12-31T22:00:00+00:00"
    assert (await store.authenticate(plaintext)) is not None

    listing = await client.get("/admin/keys", headers=AUTH)
    shown = await client.get(f"/admin/keys/{record['id']}", headers=AUTH)
    for response in (listing, shown):
        assert response.status_code == 200
        assert plaintext not in response.text and plaintext[12:] not in response.text
        assert "hash" not in response.text
    assert [k["id"] for k in listing.json()["data"]] == [record["id"]]
    assert shown.json() == record


async def test_list_filters_by_tenant(client: httpx.AsyncClient) -> None:
    a = (await create(client, tenant="acme"))["api_key"]
    await create(client, tenant="globex")
    response = await client.get("/admin/keys", params={"tenant": "acme"}, headers=AUTH)
    assert [k["id"] for k in response.json()["data"]] == [a["id"]]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tenant": "acme"}, "name"),
        ({"name": "n", "tenant": "acme", "rpm": 0}, "rpm"),
        ({"name": "n", "tenant": "acme", "budget_period": "weekly"}, "budget_period"),
        ({"name": "n", "tenant": "acme", "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
        ({"name": "n", "tenant": "acme", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "n", "tenant": "acme", "owner": "x"}, "owner"),
    ],
)
async def test_invalid_bodies(client: httpx.AsyncClient, body: dict[str, Any], param: str) -> None:
    response = await client.post("/admin/keys", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


@pytest.mark.parametrize("how", ["post", "delete"])
async def test_revoke(client: httpx.AsyncClient, store: SqlKeyStore, how: str) -> None:
    created = await create(client)
    key_id = created["api_key"]["id"]
    if how == "post":
        response = await client.post(f"/admin/keys/{key_id}/revoke", headers=AUTH)
    else:
        response = await client.delete(f"/admin/keys/{key_id}", headers=AUTH)
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    found = await store.authenticate(created["key"])
    assert found is not None and found.revoked_at is not None
    missing = await client.post("/admin/keys/nope/revoke", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "key_not_found"
    assert (await client.get("/admin/keys/nope", headers=AUTH)).status_code == 404


async def test_usage_report_groups(client: httpx.AsyncClient, store: SqlKeyStore) -> None:
    d1, d2 = date(2025, 1, 1), date(2025, 1, 2)
    await store.record_usage(
        [
            UsageRow("k1", "acme", "m1", d1, prompt_tokens=10, cost_usd=0.1),
            UsageRow("k1", "acme", "m2", d2, prompt_tokens=20, cost_usd=0.2),
            UsageRow("k2", "globex", "m1", d2, completion_tokens=5, cost_usd=0.7),
        ]
    )

    async def report(**params: str) -> dict[str, Any]:
        response = await client.get("/admin/usage", params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    by_key = await report(group_by="key")
    assert [(g["key_id"], g["requests"], g["cost_usd"]) for g in by_key["data"]] == [
        ("k1", 2, 0.3),
        ("k2", 1, 0.7),
    ]
    assert by_key["total"]["cost_usd"] == 1.0 and by_key["total"]["prompt_tokens"] == 30
    by_model = await report(group_by="model", tenant="acme")
    assert {g["model"]: g["prompt_tokens"] for g in by_model["data"]} == {"m1": 10, "m2": 20}
    by_day = await report(group_by="day", since="2025-01-02")
    assert by_day["data"] == [
        {
            "day": "2025-01-02",
            "requests": 2,
            "prompt_tokens": 20,
            "completion_tokens": 5,
            "cached_tokens": 0,
            "cost_usd": 0.9,
        },
    ]
    rows = await report(key_id="k1", until="2025-01-01")
    assert rows["group_by"] is None
    assert rows["data"] == [
        {
            "key_id": "k1",
            "tenant": "acme",
            "model": "m1",
            "day": "2025-01-01",
            "requests": 1,
            "prompt_tokens": 10,
            "completion_tokens": 0,
            "cached_tokens": 0,
            "cost_usd": 0.1,
        },
    ]
    for bad in (
        {"group_by": "week"},
        {"since": "yesterday"},
        {"since": "2025-02-01", "until": "2025-01-01"},
    ):
        response = await client.get("/admin/usage", params=bad, headers=AUTH)
        assert response.status_code == 400


async def test_admin_operations_never_log_keys(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await create(client)
    await client.get("/admin/keys", headers=AUTH)
    await client.delete(f"/admin/keys/{created['api_key']['id']}", headers=AUTH)
    await client.get("/admin/keys", headers={"Authorization": "Bearer wrong-master"})
    assert "admin created api key" in caplog.text
    for secret in (created["key"], created["key"][12:], MASTER):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rpm", 2**31),
        ("tpm", 10**9 + 1),
        ("max_concurrency", 2**63),
        ("rpm", "10"),
        ("rpm", True),
        ("rpm", 1.5),
        ("budget_usd", 1e20),
        ("budget_usd", 10**9 + 1),
        ("budget_usd", "5"),
        ("expires_at", "9999-12-31T23:59:59-14:00"),
        ("expires_at", "9999-01-01T00:00:00Z"),
        ("name", "a\x00b"),
        ("tenant", "\x00"),
        ("allowed_models", ["gpt\x00"]),
    ],
)
async def test_out_of_range_keys_are_400(
    client: httpx.AsyncClient, store: SqlKeyStore, field: str, value: Any
) -> None:
    response = await client.post(
        "/admin/keys", json={"name": "n", "tenant": "acme", field: value}, headers=AUTH
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"].split(".")[0] == field
    assert await store.list() == []


async def test_largest_allowed_values_are_stored(client: httpx.AsyncClient) -> None:
    created = await create(
        client,
        rpm=10**9,
        tpm=10**9,
        max_concurrency=10**9,
        budget_usd=10**9,
        expires_at="9998-12-31T23:59:59+00:00",
    )
    shown = await client.get(f"/admin/keys/{created['api_key']['id']}", headers=AUTH)
    assert shown.status_code == 200
    record = shown.json()
    assert (record["rpm"], record["tpm"], record["budget_usd"]) == (10**9, 10**9, 10**9)


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/admin/keys/%00", "id"),
        ("/admin/keys/a%00b/revoke", "id"),
        ("/admin/keys?tenant=%00", "tenant"),
        ("/admin/usage?tenant=%00", "tenant"),
        ("/admin/usage?key_id=x%00", "key_id"),
    ],
)
async def test_nul_in_path_or_query_is_400(
    client: httpx.AsyncClient, path: str, param: str
) -> None:
    response = await client.post(path, headers=AUTH) if "revoke" in path else None
    response = response or await client.get(path, headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


async def test_body_is_not_read_without_the_master_key(store: SqlKeyStore) -> None:
    received = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal received
        for _ in range(10_000):
            received += 1
            yield b"x" * 1024

    app = build_app(store, MASTER)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.post("/admin/keys", content=endless())
    assert response.status_code == 401
    assert received < 10_000


async def test_admin_body_is_bounded_by_max_body_bytes(store: SqlKeyStore) -> None:
    app = build_app(store, MASTER)
    app.state.gateway.settings = Settings(master_key=SecretStr(MASTER), max_body_bytes=1000)
    transport = httpx.ASGITransport(app)
    body = {"name": "n" * 100, "tenant": "acme", "allowed_models": ["m" * 100] * 20}
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.post("/admin/keys", json=body, headers=AUTH)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
