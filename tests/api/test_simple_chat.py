"""The simple API: /v1/chat and /v1/chat/stream, with conversation memory."""

from __future__ import annotations

import httpx
import orjson

from switchboard.testing.harness import GatewayServer, MockUpstream


def test_simple_chat_and_conversation(gateway: GatewayServer, mock_upstream: MockUpstream) -> None:
    first = httpx.post(gateway.url + "/chat", json={"message": "My name is Ada."}, timeout=10)
    assert first.status_code == 200
    body = first.json()
    assert set(body) >= {"request_id", "message", "model", "usage", "latency_ms", "conversation_id"}
    assert body["model"] == "mock" and body["message"]
    assert body["usage"]["total_tokens"] > 0
    assert body["request_id"] == first.headers["x-request-id"]
    second = httpx.post(
        gateway.url + "/chat",
        json={"message": "What is my name?", "conversation_id": body["conversation_id"]},
        timeout=10,
    )
    assert second.status_code == 200
    sent = mock_upstream.last_request()["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "My name is Ada." and sent[1]["content"] == body["message"]


def test_simple_chat_validation(gateway: GatewayServer) -> None:
    for bad in (
        {"message": ""},
        {"message": "x", "temperature": 2.5},
        {"message": "x", "max_tokens": 5000},
    ):
        resp = httpx.post(gateway.url + "/chat", json=bad, timeout=10)
        assert resp.status_code == 400, bad
        assert resp.json()["error"]["param"] in {"message", "temperature", "max_tokens"}


def test_simple_chat_stream_events(gateway: GatewayServer) -> None:
    resp = httpx.post(gateway.url + "/chat/stream", json={"message": "hello"}, timeout=10)
    assert resp.status_code == 200
    events = []
    for block in resp.text.strip().split("\n\n"):
        name, data = block.split("\n", 1)
        events.append((name.removeprefix("event: "), orjson.loads(data.removeprefix("data: "))))
    names = [n for n, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"token"}
    text = "".join(d["content"] for n, d in events if n == "token")
    assert len(text.split()) == 8
    done = events[-1][1]
    assert done["usage"]["completion_tokens"] == 8 and done["finish_reason"] == "stop"


def test_simple_chat_stream_upstream_error_before_first_byte(gateway: GatewayServer) -> None:
    resp = httpx.post(
        gateway.url + "/chat/stream", json={"message": "x", "model": "mock-429"}, timeout=10
    )
    assert resp.status_code == 429
