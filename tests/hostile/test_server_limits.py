"""The HTTP server's own limits (connection_guard.py), probed over raw sockets against a real
`switchboard serve`: head size and header count (431), head and body deadlines (408), idle
keep-alive connections, the connection limit (503), and HEAD on the health routes.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI

from switchboard.config import Settings
from switchboard.connection_guard import GuardedProtocol
from switchboard.server import server_config
from tests.hostile.conftest import Gateway, Launch, rss_bytes

SLACK_S = 5.0
# Short deadlines so that the tests wait seconds, not the defaults' tens of seconds.
FAST = {
    "SWITCHBOARD_HEAD_TIMEOUT_S": "2",
    "SWITCHBOARD_BODY_TIMEOUT_S": "2",
    "SWITCHBOARD_KEEP_ALIVE_TIMEOUT_S": "1",
}


_LEFTOVER: dict[int, bytes] = {}  # bytes read past a response, per socket (pipelining)


@contextmanager
def connect(gw: Gateway) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", gw.process.port), timeout=30)
    try:
        yield sock
    finally:
        _LEFTOVER.pop(sock.fileno(), None)
        sock.close()


def read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes (a reset counts as closed); and when."""
    start = time.monotonic()
    sock.settimeout(limit_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {limit_s} s; got {data[:200]!r}")
    return data, time.monotonic() - start


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, leaving the connection open; bytes of the next
    response that arrived in the same read are kept for the next call."""
    data = _LEFTOVER.pop(sock.fileno(), b"")
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        body += sock.recv(65536)
    if len(body) > length:
        _LEFTOVER[sock.fileno()] = body[length:]
    return head + b"\r\n\r\n" + body[:length]


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response[9:12])


def error_code(response: bytes) -> str:
    return str(json.loads(response.split(b"\r\n\r\n", 1)[1])["error"]["code"])


def get_with_headers(gw: Gateway, headers: list[bytes]) -> bytes:
    with connect(gw) as sock:
        head = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers)
        sock.sendall(head + b"Connection: close\r\n\r\n")
        return read_until_closed(sock, 15)[0]


# Head size and header count


def test_head_under_the_limit_is_served(hostile_gateway: Gateway) -> None:
    response = get_with_headers(hostile_gateway, [b"X-Big: " + b"a" * 60_000])
    assert status_of(response) == 200


def test_head_over_the_limit_in_one_write_is_refused_with_431(hostile_gateway: Gateway) -> None:
    response = get_with_headers(hostile_gateway, [b"X-Big: " + b"a" * 70_000])
    assert status_of(response) == 431
    assert error_code(response) == "request_header_fields_too_large"


def test_header_count_is_bounded(hostile_gateway: Gateway) -> None:
    allowed = [b"X-H%d: v" % i for i in range(98)]  # + Host + Connection = 100
    assert status_of(get_with_headers(hostile_gateway, allowed)) == 200
    response = get_with_headers(hostile_gateway, [*allowed, b"X-One-Too-Many: v"])
    assert status_of(response) == 431
    assert error_code(response) == "too_many_headers"


def test_twenty_thousand_headers_are_refused(hostile_gateway: Gateway) -> None:
    response = get_with_headers(hostile_gateway, [b"X-H%d: v" % i for i in range(20_000)])
    assert status_of(response) == 431


def test_a_64_mib_header_is_cut_off_while_it_arrives(hostile_gateway: Gateway) -> None:
    """The server answers 431 after ~64 KiB instead of buffering the header (it took 64 MiB of
    memory and 9.75 s before)."""
    pid = hostile_gateway.process.proc.pid  # type: ignore[union-attr]
    rss_before = rss_bytes(pid)
    piece = b"a" * 65536
    sent = 0
    with connect(hostile_gateway) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            while sent < 64 * 1024 * 1024:
                if select.select([sock], [], [], 0.005)[0]:
                    break  # the server has answered
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response, _ = read_until_closed(sock, 15)
    assert sent < 4 * 1024 * 1024, f"the server read {sent} bytes of one header"
    assert status_of(response) == 431
    assert rss_bytes(pid) - rss_before < 16 * 1024 * 1024
    assert status_of(get_with_headers(hostile_gateway, [])) == 200


# Deadlines


def test_half_a_request_line_is_closed_with_408_after_the_head_timeout(launch: Launch) -> None:
    gw = launch(env=FAST)
    with connect(gw) as sock:
        sock.sendall(b"GET /hea")
        response, waited = read_until_closed(sock, 2 + SLACK_S)
    assert status_of(response) == 408
    assert error_code(response) == "request_timeout"
    assert waited >= 1.0  # the deadline, not an immediate refusal


def test_a_head_trickled_byte_by_byte_is_cut_at_the_head_timeout(launch: Launch) -> None:
    """Progress does not extend the head deadline: slowloris gets 10 s (here 2 s) in all."""
    gw = launch(env=FAST)
    with connect(gw) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        closed = threading.Event()

        def trickle() -> None:
            try:
                while not closed.wait(0.25):
                    sock.sendall(b"X")
            except OSError:
                pass

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            response, _ = read_until_closed(sock, 2 + SLACK_S)
        finally:
            closed.set()
            sender.join(5)
    assert status_of(response) == 408


def test_idle_connections_are_closed(launch: Launch) -> None:
    """Silent new connections close after the head timeout; idle keep-alive ones after theirs.
    Before, 200 slow connections were held for 90 s and more."""
    gw = launch(env=FAST)
    silent = [socket.create_connection(("127.0.0.1", gw.process.port)) for _ in range(50)]
    with connect(gw) as kept_alive:
        kept_alive.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(read_response(kept_alive)) == 200
        after_response, _ = read_until_closed(kept_alive, 1 + SLACK_S)
    assert after_response == b""
    try:
        for sock in silent:
            assert read_until_closed(sock, 2 + SLACK_S)[0] == b""  # closed without an answer
    finally:
        for sock in silent:
            sock.close()


def _post_head(gw: Gateway, key: str, length: int) -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n" % (key.encode(), length)
    )


def _trickle_body(sock: socket.socket, body: bytes, piece: int, every_s: float) -> threading.Event:
    stop = threading.Event()

    def send() -> None:
        try:
            for i in range(0, len(body), piece):
                if stop.wait(every_s):
                    return
                sock.sendall(body[i : i + piece])
        except OSError:
            pass

    threading.Thread(target=send, daemon=True).start()
    return stop


def chat_body(size: int) -> bytes:
    body = json.dumps({"model": "mock", "messages": [{"role": "user", "content": "hi"}]})
    return body.encode().ljust(size)


def test_a_body_trickled_one_byte_a_second_is_cut_with_408(launch: Launch) -> None:
    gw = launch(env=FAST)
    key = gw.new_key()
    with connect(gw) as sock:
        sock.sendall(_post_head(gw, key, 1000))
        stop = _trickle_body(sock, chat_body(1000), piece=1, every_s=1.0)
        try:
            response, waited = read_until_closed(sock, 2 + SLACK_S)
        finally:
            stop.set()
    assert status_of(response) == 408
    assert waited >= 1.0


def test_a_stalled_body_is_cut_with_408(launch: Launch) -> None:
    gw = launch(env=FAST)
    with connect(gw) as sock:
        sock.sendall(_post_head(gw, gw.new_key(), 1000) + chat_body(1000)[:500])
        response, _ = read_until_closed(sock, 2 + SLACK_S)
    assert status_of(response) == 408


def test_a_slow_but_steady_body_is_served(launch: Launch) -> None:
    """4 KiB/s for 4 s, past the 2 s body timeout: above the 1 KiB/s minimum rate, not cut."""
    gw = launch(env=FAST)
    with connect(gw) as sock:
        sock.sendall(_post_head(gw, gw.new_key(), 16_384))
        stop = _trickle_body(sock, chat_body(16_384), piece=1024, every_s=0.25)
        try:
            sock.settimeout(30)
            response = read_response(sock)
        finally:
            stop.set()
    assert status_of(response) == 200, response[:300]


# Connections, HEAD, settings


def test_connections_over_the_limit_get_503(launch: Launch) -> None:
    gw = launch(env={"SWITCHBOARD_MAX_CONNECTIONS": "4"})
    idle = [socket.create_connection(("127.0.0.1", gw.process.port)) for _ in range(3)]
    try:
        time.sleep(0.5)  # let the server accept them
        assert httpx.get(f"{gw.url}/health", timeout=10).status_code == 503
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 10
    while httpx.get(f"{gw.url}/health", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "still 503 after the idle connections closed"
        time.sleep(0.1)


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_head_on_health_routes_answers_like_get(hostile_gateway: Gateway, path: str) -> None:
    get = httpx.get(f"{hostile_gateway.url}{path}", timeout=10)
    head = httpx.head(f"{hostile_gateway.url}{path}", timeout=10)
    assert head.status_code == get.status_code
    assert head.status_code in (200, 503)
    assert head.content == b""


def test_settings_reach_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "KEEP_ALIVE_TIMEOUT_S": "7",
        "GRACEFUL_SHUTDOWN_S": "45",
        "BACKLOG": "512",
        "MAX_CONNECTIONS": "300",
        "MAX_HEAD_BYTES": "32768",
        "MAX_HEADERS": "50",
    }
    for name, value in env.items():
        monkeypatch.setenv(f"SWITCHBOARD_{name}", value)
    config = server_config(FastAPI(), Settings())
    assert (config.timeout_keep_alive, config.timeout_graceful_shutdown) == (7, 45)
    assert (config.backlog, config.limit_concurrency) == (512, 300)
    protocol: Callable[..., object] = config.http  # type: ignore[assignment]
    assert isinstance(protocol, type) and issubclass(protocol, GuardedProtocol)
    assert (protocol.limits.max_head_bytes, protocol.limits.max_headers) == (32768, 50)


def test_defaults() -> None:
    s = Settings()
    assert (s.max_head_bytes, s.max_headers) == (64 * 1024, 100)
    assert (s.head_timeout_s, s.body_timeout_s, s.body_min_rate) == (10, 30, 1024)
    assert (s.keep_alive_timeout_s, s.graceful_shutdown_s) == (5, 30)
    assert (s.max_connections, s.backlog) == (10_000, 2048)


def test_pipelined_requests_in_one_write_are_all_served(hostile_gateway: Gateway) -> None:
    one = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(hostile_gateway) as sock:
        sock.sendall(one * 3)
        assert [status_of(read_response(sock)) for _ in range(3)] == [200, 200, 200]


def test_a_websocket_outlives_the_head_and_keep_alive_timeouts(launch: Launch) -> None:
    """The read deadlines belong to HTTP requests; an upgraded connection is the app's."""
    from websockets.sync.client import connect as ws_connect

    gw = launch(env=FAST)
    url = f"ws://127.0.0.1:{gw.process.port}/ws/chat/c1"
    headers = {"Authorization": f"Bearer {gw.new_key()}"}
    with ws_connect(url, additional_headers=headers, open_timeout=10) as ws:
        time.sleep(2 + 1 + 1)  # past both deadlines
        ws.send(json.dumps({"id": "m1", "message": "hello", "model": "mock"}))
        events = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
    assert events[0] == {"type": "ack", "id": "m1"}


def test_an_oversize_head_behind_a_pipelined_request_is_refused(hostile_gateway: Gateway) -> None:
    """The second head starts inside the read that ends the first request, so its first bytes
    are not counted as they arrive; it is still measured when it completes."""
    first = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(hostile_gateway) as sock:
        sock.sendall(first + b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 60_000)
        assert status_of(read_response(sock)) == 200
        sock.sendall(b"b" * 20_000 + b"\r\n\r\n")
        assert status_of(read_until_closed(sock, 15)[0]) == 431
