"""The hostile suite's own fixtures work: a real gateway process answers an authenticated call."""

from __future__ import annotations

import httpx


def test_gateway_process_serves_an_authenticated_chat(hostile_gateway) -> None:
    key = hostile_gateway.new_key(rpm=100)
    resp = httpx.post(
        f"{hostile_gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"]
    anonymous = httpx.post(
        f"{hostile_gateway.url}/v1/chat/completions",
        json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    )
    assert anonymous.status_code == 401
