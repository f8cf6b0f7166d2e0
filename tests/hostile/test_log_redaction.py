"""At debug level the WebSocket handshake line (with `?api_key=`) is logged: the key must not be
(hardening finding 9). Read from the log of a real gateway process."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import connect


def test_debug_logs_never_hold_a_key(launch: Any) -> None:
    gw = launch(env={"SWITCHBOARD_LOG_LEVEL": "debug", "SWITCHBOARD_ACCESS_LOG": "true"})
    key = gw.new_key()
    url = f"{gw.url.replace('http', 'ws')}/ws/chat/c?api_key={key}&x=1"
    with connect(url) as ws:
        ws.send(json.dumps({"id": "m", "message": "hi"}))
        while json.loads(ws.recv(timeout=10))["type"] not in ("done", "error"):
            pass
    log = gw.process.log_text()
    assert "WebSocket" in log or "websocket" in log.lower()  # the handshake was logged ...
    assert key not in log and key[-12:] not in log  # ... without the key


def test_scrub_catches_every_case_and_leaves_clean_lines_alone() -> None:
    from switchboard.observability.log_redaction import scrub

    for dirty, secret in [
        ("GET /ws/chat/c?API_KEY=abc123secret HTTP/1.1", "abc123secret"),
        ("url?Token=t0ps3cret&x=1", "t0ps3cret"),
        ("upstream said: bad key sk-proj-abcdefghijkl", "sk-proj-abcdefghijkl"),
        ("aws AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ]:
        assert secret not in scrub(dirty), dirty
    clean = "request request_id=ab12 key_id=k_1 tenant=acme status=200 latency_ms=1.2"
    assert scrub(clean) == clean
