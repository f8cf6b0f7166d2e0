"""One tenant's request cannot make a replica treat Redis as down for everyone (hardening
finding 2), and a stranger's body is never parsed (finding 3)."""

from __future__ import annotations

from typing import Any

import httpx


def _store_errors(gw: Any) -> float:
    total = 0.0
    for line in httpx.get(f"{gw.url}/metrics", timeout=10).text.splitlines():
        if line.startswith("switchboard_limits_store_errors_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _chat(gw: Any, key: str, **extra: Any) -> httpx.Response:
    body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}], **extra}
    return httpx.post(
        f"{gw.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_huge_numbers_fail_one_request_not_the_store(launch: Any) -> None:
    gw = launch(env={"SWITCHBOARD_REDIS_DOWN_POLICY": "closed"})
    attacker = gw.new_key(rpm=1000, tpm=10**9)
    bystander = gw.new_key(tenant="other", rpm=1000, tpm=10**9)
    for huge in (1e17, 10**17, 2**63, "1e17"):
        resp = _chat(gw, attacker, max_tokens=huge)
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "max_tokens"
    assert _chat(gw, attacker, max_tokens=10**7).status_code in (200, 429)  # the largest allowed
    assert _chat(gw, bystander).status_code == 200  # closed policy: a 503 if Redis were "down"
    assert _store_errors(gw) == 0


def test_a_strangers_large_body_is_not_parsed(hostile_gateway: Any) -> None:
    """245k tiny messages (~7 MB, under the 8 MiB limit) without a key: refused as
    unauthenticated (401), which the gateway can only say before parsing the body."""
    messages = ",".join(['{"role":"user","content":"x"}'] * 245_000)
    body = ('{"model":"mock","messages":[' + messages + "]}").encode()
    assert len(body) < 8 * 1024 * 1024
    resp = httpx.post(
        f"{hostile_gateway.url}/v1/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert resp.status_code == 401
