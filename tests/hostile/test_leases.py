"""Concurrency leases: a client cannot share or leak them (hardening findings 1, 4 and 5).

- a client-chosen X-Request-ID is not a lease id: ten concurrent streams with one id on a key
  limited to 2 admit exactly 2;
- WebSocket turns that end in a disconnect at any step leave no lease behind;
- a client that goes away before its reply (non-streamed, or a stream before its first token)
  frees its slot at once instead of after the upstream timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
import redis
from websockets.sync.client import connect

WAITING_MODEL = {
    "name": "mock-wait",
    "deployments": [
        {
            "provider": "openai",
            "name": "mock-wait-a",
            "model": "m",
            "api_base": "PLACEHOLDER",
            "api_key": "sk-upstream",
            "headers": {"x-mock-ttft-ms": "20000"},
            "timeout": 60,
            "first_token_timeout": 60,
        }
    ],
}


def _waiting_model(upstream_url: str) -> dict[str, Any]:
    model = json.loads(json.dumps(WAITING_MODEL))
    model["deployments"][0]["api_base"] = f"{upstream_url}/v1"
    return model


def _key(gw: Any, **limits: Any) -> tuple[str, str]:
    resp = gw.admin("POST", "/admin/keys", json={"name": "k", "tenant": "acme", **limits})
    assert resp.status_code == 201, resp.text
    return resp.json()["key"], resp.json()["api_key"]["id"]


def _chat(model: str, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}


def _leases(redis_url: str, key_id: str) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.zcard(f"sb:cc:key:{key_id}"))
    finally:
        client.close()


def _wait_for(condition: Any, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_shared_request_id_does_not_share_a_lease(hostile_gateway: Any) -> None:
    key, _ = _key(hostile_gateway, max_concurrency=2)
    headers = {"Authorization": f"Bearer {key}", "X-Request-ID": "same-id-every-time"}

    statuses: list[int] = []

    async def one(client: httpx.AsyncClient, all_answered: asyncio.Event) -> None:
        url = f"{hostile_gateway.url}/v1/chat/completions"
        async with client.stream("POST", url, json=_chat("mock-slow", True), headers=headers) as r:
            statuses.append(r.status_code)
            if len(statuses) == 10:
                all_answered.set()
            await all_answered.wait()  # admitted streams stay open until every request is answered

    async def run() -> None:
        all_answered = asyncio.Event()
        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.wait_for(
                asyncio.gather(*(one(client, all_answered) for _ in range(10))), 30
            )

    asyncio.run(run())
    assert sorted(statuses) == [200, 200] + [429] * 8, statuses


@pytest.mark.parametrize("step", ["after_send", "after_ack", "after_token"])
def test_websocket_disconnects_leak_no_lease(launch: Any, step: str) -> None:
    gw = launch()
    key, key_id = _key(gw, max_concurrency=2)
    url = f"{gw.url.replace('http', 'ws')}/ws/chat/c1"
    for i in range(25):
        with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
            ws.send(json.dumps({"id": f"m{i}", "message": "hello", "model": "mock-slow"}))
            if step in ("after_ack", "after_token"):
                assert json.loads(ws.recv(timeout=10))["type"] == "ack"
            if step == "after_token":
                while json.loads(ws.recv(timeout=10))["type"] != "token":
                    pass
    assert _wait_for(lambda: _leases(gw.redis_url, key_id) == 0), "a lease outlived its socket"
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(2):
            resp = client.post(f"{gw.url}/v1/chat/completions", json=_chat("mock"))
            assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("stream", [False, True])
def test_client_that_leaves_frees_its_slot(launch: Any, upstream: Any, stream: bool) -> None:
    gw = launch(models=[_waiting_model(upstream.base_url)])
    key, key_id = _key(gw, max_concurrency=1)
    headers = {"Authorization": f"Bearer {key}"}
    url = f"{gw.url}/v1/chat/completions"
    with pytest.raises(httpx.ReadTimeout):  # the upstream answers after 20 s; we leave after 1
        httpx.post(url, json=_chat("mock-wait", stream), headers=headers, timeout=1.0)
    assert _wait_for(lambda: _leases(gw.redis_url, key_id) == 0, timeout_s=5)
    resp = httpx.post(url, json=_chat("mock"), headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
