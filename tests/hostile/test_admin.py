"""The admin API under large bodies: without the master key the request is refused from its
headers before the body is read, and with it the body is bounded by max_body_bytes, so the
gateway's memory never follows the upload."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from tests.hostile.conftest import MASTER, Gateway, rss_bytes

MiB = 1024 * 1024
UPLOAD = 64 * MiB
RSS_GROWTH_LIMIT = 32 * MiB


@contextmanager
def peak_rss(pid: int) -> Iterator[list[int]]:
    """Samples the process's resident memory every few ms; yields [baseline, peak]."""
    found = [rss_bytes(pid), 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            found[1] = max(found[1], rss_bytes(pid))
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        done.set()
        thread.join()


def _status_if_answered(sock: socket.socket) -> int | None:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return None
    head = sock.recv(65536)
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else -1


def large_post(gw: Gateway, *, chunked: bool, master: bool) -> int:
    """POST /admin/keys with UPLOAD bytes, sent as they go; stops sending once answered.
    Returns the status, or 0 when the server closed the connection without answering."""
    url = urlsplit(gw.url)
    framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {UPLOAD}".encode()
    auth = f"Authorization: Bearer {MASTER}\r\n".encode() if master else b""
    head = b"POST /admin/keys HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
    piece = b"x" * MiB
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(head + auth + framing + b"\r\n\r\n")
        try:
            for _ in range(UPLOAD // MiB):
                status = _status_if_answered(sock)
                if status is not None:
                    return status
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(10)
        try:
            status = _status_if_answered(sock) or _status_after_wait(sock)
        except ConnectionResetError:
            return 0
        return status


def _status_after_wait(sock: socket.socket) -> int:
    head = sock.recv(65536)
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("master", [False, True], ids=["no-key", "master-key"])
def test_large_admin_post_is_refused_without_growing_memory(
    hostile_gateway: Gateway, chunked: bool, master: bool
) -> None:
    pid = hostile_gateway.process.proc.pid
    started = time.monotonic()
    with peak_rss(pid) as rss:
        status = large_post(hostile_gateway, chunked=chunked, master=master)
    elapsed = time.monotonic() - started
    assert rss[1] - rss[0] < RSS_GROWTH_LIMIT, f"RSS {rss[0] / MiB:.0f} -> {rss[1] / MiB:.0f} MiB"
    assert status in ((413, 0) if master else (401, 0)), status
    assert elapsed < 20
    assert hostile_gateway.admin("GET", "/admin/keys").status_code == 200
