"""`GET /v1/models` with API keys on (hardening finding 9): a key is needed, and a key sees only
the models it may use."""

from __future__ import annotations

from typing import Any

import httpx


def test_models_need_a_key_and_list_only_allowed_ones(hostile_gateway: Any) -> None:
    url = f"{hostile_gateway.url}/v1/models"
    assert httpx.get(url, timeout=10).status_code == 401
    key = hostile_gateway.new_key(allowed_models=["mock"])
    resp = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert resp.status_code == 200
    assert [m["id"] for m in resp.json()["data"]] == ["mock"]
    other = httpx.get(f"{url}/mock-slow", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert other.status_code == 404
    everything = hostile_gateway.new_key()
    resp = httpx.get(url, headers={"Authorization": f"Bearer {everything}"}, timeout=10)
    assert {"mock", "mock-slow"} <= {m["id"] for m in resp.json()["data"]}
