"""A body cut off by the server's body deadline (or by a client that leaves mid-body) is a
quiet 499 in the application, not an "Exception in ASGI application" with a traceback."""

from __future__ import annotations

import socket
import time
from typing import Any


def test_a_stalled_body_leaves_no_traceback(launch: Any) -> None:
    gw = launch(env={"SWITCHBOARD_BODY_TIMEOUT_S": "1", "SWITCHBOARD_BODY_MIN_RATE": "0"})
    key = gw.new_key()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: 200\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", gw.process.port), timeout=15) as sock:
        sock.sendall(head.encode() + b'{"model": "mock", ')  # and then nothing more
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")
    deadline = time.monotonic() + 3  # the app unwinds after the 408 is sent: watch it do so
    while time.monotonic() < deadline:
        log = gw.process.log_text()
        assert "Traceback" not in log and "Exception in ASGI application" not in log
        time.sleep(0.05)
