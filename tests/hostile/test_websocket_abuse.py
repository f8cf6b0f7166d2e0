"""WebSocket abuse (hardening finding 7): a binary frame or a cancel with a non-string id is an
error message, not a dropped session; the queue behind a reply is bounded."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect


def _events_until(ws: ClientConnection, predicate: Any) -> list[dict[str, Any]]:
    seen = []
    while True:
        event = json.loads(ws.recv(timeout=10))
        seen.append(event)
        if predicate(event):
            return seen


def _socket(gw: Any) -> ClientConnection:
    key = gw.new_key()
    url = f"{gw.url.replace('http', 'ws')}/ws/chat/c"
    return connect(url, additional_headers={"Authorization": f"Bearer {key}"})


def test_binary_frame_and_bad_cancel_keep_the_session(hostile_gateway: Any) -> None:
    with _socket(hostile_gateway) as ws:
        ws.send(b"\x00\x01binary")
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
        ws.send(json.dumps({"type": "cancel", "id": {"not": "a string"}}))
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error" and error["error"]["param"] == "id"
        ws.send(json.dumps({"id": "ok", "message": "still there?"}))
        done = _events_until(ws, lambda e: e["type"] in ("done", "error"))[-1]
        assert done["type"] == "done" and done["id"] == "ok"


def test_queue_behind_a_reply_is_bounded(hostile_gateway: Any) -> None:
    with _socket(hostile_gateway) as ws:
        ws.send(json.dumps({"id": "slow", "message": "long", "model": "mock-slow"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "ack", "id": "slow"}
        for i in range(40):  # the default bound is 16 waiting messages
            ws.send(json.dumps({"id": f"q{i}", "message": "x" * 1000}))
        answers = _events_until(ws, lambda e: e.get("id") == "q39" and e["type"] != "token")
        acks = [e for e in answers if e["type"] == "ack" and e["id"].startswith("q")]
        full = [e for e in answers if e["type"] == "error" and e["error"]["code"] == "queue_full"]
        assert len(acks) == 16 and len(full) == 24
        ws.send(json.dumps({"type": "cancel", "id": "slow"}))
        cancelled = _events_until(ws, lambda e: e["type"] == "error" and e["id"] == "slow")
        assert cancelled[-1]["error"]["code"] == "cancelled"


def test_deeply_nested_message_is_an_error_not_a_crash(hostile_gateway: Any) -> None:
    with _socket(hostile_gateway) as ws:
        ws.send('{"id": "deep", "message": "x", "extra": ' + "[" * 300 + "]" * 300 + "}")
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error" and error["error"]["code"] == "invalid_json"
        ws.send(json.dumps({"id": "ok", "message": "still there?"}))
        done = _events_until(ws, lambda e: e["type"] in ("done", "error"))[-1]
        assert done["type"] == "done"
