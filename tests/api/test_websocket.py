"""WebSocket chat: ack, tokens, done; cancel; queued messages; bad input; disconnect."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect

from switchboard.testing.harness import GatewayServer, MockUpstream, wait_for


def ws_url(gw: GatewayServer) -> str:
    return f"ws://127.0.0.1:{gw.port}/ws/chat/client-1"


def recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=10))  # type: ignore[no-any-return]


def until(ws: ClientConnection, kind: str, message_id: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        event = recv(ws)
        seen.append(event)
        if event["type"] == kind and event.get("id") == message_id:
            return seen


def test_message_gets_ack_tokens_done(gateway: GatewayServer) -> None:
    with connect(ws_url(gateway)) as ws:
        ws.send(json.dumps({"id": "m1", "message": "hello"}))
        events = until(ws, "done", "m1")
        assert events[0] == {"type": "ack", "id": "m1"}
        tokens = [e["content"] for e in events if e["type"] == "token"]
        assert len("".join(tokens).split()) == 8
        done = events[-1]
        assert done["usage"]["completion_tokens"] == 8 and done["conversation_id"]


def test_conversation_continues_over_websocket(
    gateway: GatewayServer, mock_upstream: MockUpstream
) -> None:
    with connect(ws_url(gateway)) as ws:
        ws.send(json.dumps({"id": "a", "message": "first", "conversation_id": "conv-ws"}))
        until(ws, "done", "a")
        ws.send(json.dumps({"id": "b", "message": "second", "conversation_id": "conv-ws"}))
        until(ws, "done", "b")
    contents = [m["content"] for m in mock_upstream.last_request()["body"]["messages"]]
    assert contents[0] == "first" and contents[-1] == "second" and len(contents) == 3


def test_cancel_and_queued_message(gateway: GatewayServer) -> None:
    with connect(ws_url(gateway)) as ws:
        ws.send(json.dumps({"id": "slow", "message": "long", "model": "mock-slow"}))
        assert recv(ws) == {"type": "ack", "id": "slow"}
        ws.send(json.dumps({"id": "next", "message": "short"}))  # queued behind "slow"
        events = []
        while not any(e["type"] == "token" for e in events):
            events.append(recv(ws))
        ws.send(json.dumps({"type": "cancel", "id": "slow"}))
        events += until(ws, "done", "next")
        cancelled = [e for e in events if e["type"] == "error" and e["id"] == "slow"]
        assert cancelled and cancelled[0]["error"]["code"] == "cancelled"
        assert {"type": "ack", "id": "next"} in events
        assert not any(e["type"] == "done" and e["id"] == "slow" for e in events)


def test_invalid_messages_get_errors_and_connection_survives(gateway: GatewayServer) -> None:
    with connect(ws_url(gateway)) as ws:
        ws.send("not json")
        assert recv(ws)["type"] == "error"
        ws.send(json.dumps({"id": "x", "message": ""}))
        err = recv(ws)
        assert err["type"] == "error" and err["error"]["param"] == "message"
        ws.send(json.dumps({"id": "y", "message": "hi", "model": "nope"}))
        events = until(ws, "error", "y")
        assert events[-1]["error"]["code"] == "model_not_found"
        ws.send(json.dumps({"id": "z", "message": "still here"}))
        until(ws, "done", "z")


def test_disconnect_cancels_upstream(gateway: GatewayServer, mock_upstream: MockUpstream) -> None:
    before = mock_upstream.stats()["client_disconnects"]
    with connect(ws_url(gateway)) as ws:
        ws.send(json.dumps({"id": "s", "message": "long", "model": "mock-slow"}))
        while recv(ws)["type"] != "token":
            pass
    assert wait_for(lambda: mock_upstream.stats()["client_disconnects"] > before, timeout=3)


async def test_query_api_key_is_moved_out_of_the_logged_query_string() -> None:
    from switchboard.api.middleware import RequestIdMiddleware

    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    scope = {"type": "websocket", "headers": [], "query_string": b"a=1&api_key=sk-sb-secret%2Fx"}
    await RequestIdMiddleware(app)(scope, None, None)  # type: ignore[arg-type]
    assert seen["query_string"] == b"a=1"  # what uvicorn logs on accept
    assert seen["state"]["query_api_key"] == "sk-sb-secret/x"
