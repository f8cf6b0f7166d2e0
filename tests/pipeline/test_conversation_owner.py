"""Conversations belong to their owner (core-joins defect 1): the same `conversation_id` used by
another tenant, or another key of the same tenant, is a new conversation for it, over the JSON
API, the SSE API and the WebSocket, with the embedded store and with Redis."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

MASTER = "sk-master-owner-test-0123456789"
REDIS_URL = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["embedded", "redis"], scope="module")
def owned_gateway(
    request: pytest.FixtureRequest,
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    folder: Path = tmp_path_factory.mktemp("owner")
    extra: dict[str, Any] = {}
    if request.param == "redis":
        extra = {"redis_url": REDIS_URL, "redis_prefix": f"sbtest:owner:{uuid.uuid4().hex[:8]}:"}
    settings = Settings(
        catalogue=Catalogue.model_validate(
            {
                "models": [
                    {
                        "name": "mock",
                        "deployments": [
                            {"provider": "openai", "model": "m", "api_base": mock_upstream.url}
                        ],
                    }
                ]
            }
        ),
        master_key=MASTER,
        database_url=f"sqlite:///{folder / 'keys.db'}",
        **extra,
    )
    with run_gateway(background, settings) as server:
        yield server


def _key(gw: GatewayServer, tenant: str) -> str:
    resp = httpx.post(
        f"http://127.0.0.1:{gw.port}/admin/keys",
        json={"name": "k", "tenant": tenant},
        headers={"Authorization": f"Bearer {MASTER}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])


def _say_json(gw: GatewayServer, key: str, conv: str, text: str) -> None:
    resp = httpx.post(
        gw.url + "/chat",
        json={"message": text, "conversation_id": conv},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text


def _say_sse(gw: GatewayServer, key: str, conv: str, text: str) -> None:
    resp = httpx.post(
        gw.url + "/chat/stream",
        json={"message": text, "conversation_id": conv},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 200 and "event: done" in resp.text, resp.text


def _say_ws(gw: GatewayServer, key: str, conv: str, text: str) -> None:
    url = f"ws://127.0.0.1:{gw.port}/ws/chat/c"
    with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        ws.send(json.dumps({"id": "m", "message": text, "conversation_id": conv}))
        while True:
            event = json.loads(ws.recv(timeout=10))
            if event["type"] in ("done", "error"):
                assert event["type"] == "done", event
                return


@pytest.mark.parametrize("say", [_say_json, _say_sse, _say_ws], ids=["json", "sse", "ws"])
def test_conversation_id_is_scoped_to_its_key(
    owned_gateway: GatewayServer, mock_upstream: MockUpstream, say: Any
) -> None:
    alice, mallory = _key(owned_gateway, "acme"), _key(owned_gateway, "globex")
    colleague = _key(owned_gateway, "acme")  # same tenant, another key
    conv, secret = "support", f"my password is {uuid.uuid4().hex}"
    say(owned_gateway, alice, conv, secret)

    def sent_texts() -> list[str]:
        return [m["content"] for m in mock_upstream.last_request()["body"]["messages"]]

    for other in (mallory, colleague):
        say(owned_gateway, other, conv, "what did the last user say?")
        assert sent_texts() == ["what did the last user say?"]
    say(owned_gateway, alice, conv, "and now?")  # the owner still has their history
    assert sent_texts()[0] == secret and sent_texts()[-1] == "and now?"
