"""Each WebSocket message is its own request (core-joins defect 2): its own request id and its
own clock, so latency and overhead do not grow with the age of the connection."""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.sync.client import ClientConnection, connect

from switchboard.testing.harness import GatewayServer


def _turn(ws: ClientConnection, message_id: str) -> dict[str, Any]:
    ws.send(json.dumps({"id": message_id, "message": "hello"}))
    while True:
        event = json.loads(ws.recv(timeout=10))
        if event["type"] in ("done", "error") and event["id"] == message_id:
            assert event["type"] == "done", event
            return event  # type: ignore[no-any-return]


def test_each_message_has_its_own_id_and_clock(gateway: GatewayServer) -> None:
    url = f"ws://127.0.0.1:{gateway.port}/ws/chat/c"
    with connect(url, additional_headers={"X-Request-ID": "the-socket"}) as ws:
        first = _turn(ws, "a")
        idle_s = 1.5  # the connection ages; the next message's clock must not see it
        time.sleep(idle_s)
        second = _turn(ws, "b")
    assert first["request_id"] != second["request_id"]
    assert "the-socket" not in (first["request_id"], second["request_id"])
    assert second["latency_ms"] < idle_s * 1000
