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
