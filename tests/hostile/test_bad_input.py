"""Hostile input to a real gateway process gets a 400 in the envelope, never a 500: NUL bytes
that PostgreSQL refuses, numbers past the columns, expiries past year 9999, deep nesting,
scalars of the wrong type. Admin probes run on both SQLite and PostgreSQL key stores."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from switchboard.testing.services import accepts_connections, postgres_url, require_or_skip
from tests.hostile.conftest import Gateway, Launch


def assert_400(response: httpx.Response, param: str | None = None) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param


@pytest.fixture(params=["sqlite", "postgresql"])
def admin_gateway(request: pytest.FixtureRequest, launch: Launch) -> Gateway:
    if request.param == "sqlite":
        return launch()
    url = postgres_url()
    if not accepts_connections(url):
        require_or_skip(f"PostgreSQL not reachable at {url}")
    schema = f"t_hostile_{uuid.uuid4().hex[:12]}"
    return launch(env={"SWITCHBOARD_DATABASE_URL": url, "SWITCHBOARD_DATABASE_SCHEMA": schema})


NUL_PROBES = [
    ("GET", "/admin/keys/%00", "id"),
    ("DELETE", "/admin/keys/%00", "id"),
    ("POST", "/admin/keys/ab%00cd/revoke", "id"),
    ("GET", "/admin/keys?tenant=%00", "tenant"),
    ("GET", "/admin/usage?tenant=acme%00", "tenant"),
    ("GET", "/admin/usage?key_id=%00", "key_id"),
]
OUT_OF_RANGE: list[tuple[str, Any]] = [
    ("rpm", 2**31),
    ("tpm", 2**63),
    ("max_concurrency", 10**9 + 1),
    ("budget_usd", 1e20),
    ("expires_at", "9999-12-31T23:59:59-14:00"),
    ("name", "a\u0000b"),
    ("tenant", "acme\u0000"),
    ("rpm", "60"),
]


def test_admin_bad_input_is_400_on_both_stores(admin_gateway: Gateway) -> None:
    """One gateway per store (a process start each), every probe against it."""
    for method, path, param in NUL_PROBES:
        assert_400(admin_gateway.admin(method, path), param)
    for field, value in OUT_OF_RANGE:
        body = {"name": "n", "tenant": "acme", field: value}
        assert_400(admin_gateway.admin("POST", "/admin/keys", json=body), field)
    assert admin_gateway.admin("GET", "/admin/keys").json()["data"] == []

    key = admin_gateway.new_key(
        rpm=10**9, tpm=10**9, max_concurrency=10**9, budget_usd=10**9,
        expires_at="9998-12-31T23:59:59+00:00",
    )  # fmt: skip
    listed = admin_gateway.admin("GET", "/admin/keys").json()["data"]
    assert [k["prefix"] for k in listed] == [key[:12]]
    assert listed[0]["budget_usd"] == 10**9


def _chat(gw: Gateway, client: httpx.Client, key: str, raw: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return client.post(f"{gw.url}/v1/chat/completions", content=raw, headers=headers)


BAD_CHATS: list[tuple[bytes, str | None]] = [
    (b'{"model":"mock","messages":[{"role":"user","content":"hi"}],"x":'
     + b"[" * 300 + b"]" * 300 + b"}", None),
    (b'{"model":"mock","messages":[{"role":"user","content":[{"type":"text","text":"hi","d":'
     + b"{\"a\":" * 260 + b"1" + b"}" * 260 + b"}]}]}", None),
    (b'{"model":"mock","messages":[{"role":"user","content":"hi"}],"stream":"yes"}', "stream"),
    (b'{"model":"mock","messages":[{"role":"user","content":"hi"}],"max_tokens":"10"}',
     "max_tokens"),
    (b'{"model":"mock","messages":[{"role":"user","content":"hi"}],"max_tokens":1e17}',
     "max_tokens"),
]  # fmt: skip


def test_bad_chat_bodies_are_400_and_the_connection_stays_usable(
    hostile_gateway: Gateway,
) -> None:
    key = hostile_gateway.new_key()
    good = b'{"model":"mock","messages":[{"role":"user","content":"hi"}]}'
    with httpx.Client(timeout=10) as client:
        for raw, param in BAD_CHATS:
            assert_400(_chat(hostile_gateway, client, key, raw), param)
            assert _chat(hostile_gateway, client, key, good).status_code == 200
