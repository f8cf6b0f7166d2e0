"""A small HTTP/1.1 server written on asyncio.Protocol, with keep-alive and pipelining.

The mock provider must out-run the gateway it load-tests, so it skips ASGI frameworks and parses
only what a client of an LLM API sends: request line, headers and a Content-Length body.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
# While a request is being answered, later pipelined bytes are buffered up to this much.
PAUSE_READING_BYTES = 1024 * 1024
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-cased names; a repeated header keeps its last value
    body: bytes
    keep_alive: bool


Header = tuple[str, str]
# A handler answers at once through the connection and returns None, or returns a coroutine
# that answers later; the next pipelined request waits until it has finished.
Handler = Callable[[HttpRequest, "HttpConnection"], Coroutine[Any, Any, None] | None]
# Renders the body of a protocol error (400, 411, 413, 431) in the application's error format.
ErrorRenderer = Callable[[int, str], bytes]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class _Head:
    """A parsed request head waiting for the rest of its body."""

    method: str
    target: str
    headers: dict[str, str]
    keep_alive: bool
    body_start: int
    end: int


def _parse_head(buffer: bytearray, head_end: int) -> _Head:
    lines = bytes(buffer[:head_end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise _BadRequest(400, "malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name[-1] in " \t":
            raise _BadRequest(400, "malformed header line")
        headers[name.lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.1":
        keep_alive = "close" not in connection
    else:
        keep_alive = "keep-alive" in connection
    length = headers.get("content-length")
    if "transfer-encoding" in headers or (length is None and method in _METHODS_WITH_BODY):
        raise _BadRequest(411, "a Content-Length header is required")
    if length is not None and not length.isdigit():
        raise _BadRequest(400, "invalid Content-Length")
    size = int(length) if length else 0
    if size > MAX_BODY_BYTES:
        raise _BadRequest(413, "request body too large")
    return _Head(method, target, headers, keep_alive, head_end + 4, head_end + 4 + size)


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests in order and writes their responses."""

    def __init__(
        self, handler: Handler, render_error: ErrorRenderer, registry: set[HttpConnection]
    ) -> None:
        self._handler = handler
        self._render_error = render_error
        self._registry = registry
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._head: _Head | None = None
        self._continue_sent = False
        self._task: asyncio.Task[None] | None = None
        self._keep_alive = True
        self._responded = False
        self._reading_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._lost = False
        self._closed_by_us = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, AttributeError):
                pass
        self._registry.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._registry.discard(self)
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._wake_drain()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._process()

    def pause_writing(self) -> None:
        if self._drain_waiter is None:
            self._drain_waiter = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_drain()

    @property
    def closed_by_peer(self) -> bool:
        """True once the client has gone away on its own (not closed by us or by a shutdown)."""
        return self._lost and not self._closed_by_us

    def respond(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Iterable[Header] = (),
    ) -> None:
        """Write a complete response with a Content-Length body."""
        head = self._render_head(status, content_type, headers, f"content-length: {len(body)}")
        self._finish(head + body)

    def start_chunked(
        self, status: int, content_type: str, headers: Iterable[Header] = (), first: bytes = b""
    ) -> None:
        """Write the head of a chunked response, optionally with its first chunk."""
        head = self._render_head(status, content_type, headers, "transfer-encoding: chunked")
        self._write(head + _chunk(first))

    def write_chunk(self, data: bytes) -> None:
        self._write(_chunk(data))

    def end_chunked(self, last: bytes = b"") -> None:
        """Write a final data chunk (if any) and the terminating zero-length chunk."""
        self._finish(_chunk(last) + b"0\r\n\r\n")

    async def drain(self) -> None:
        """Wait while the client is slower than we write."""
        if self._drain_waiter is not None:
            await self._drain_waiter

    def abort(self) -> None:
        """Drop the connection at once, without finishing the response."""
        self._responded = True
        self._closed_by_us = True
        if self._transport is not None:
            self._transport.abort()

    def shutdown(self) -> asyncio.Task[None] | None:
        """Close for a server stop; returns the in-flight task, which is now cancelled."""
        task = self._task
        self.abort()
        if task is not None:
            task.cancel()
        return task

    def _process(self) -> None:
        while self._task is None and not self._lost and not self._closed_by_us:
            try:
                request = self._next_request()
            except _BadRequest as exc:
                self._keep_alive = False
                self.respond(exc.status, self._render_error(exc.status, exc.message))
                return
            if request is None:
                break
            self._dispatch(request)
        self._flow_control()

    def _next_request(self) -> HttpRequest | None:
        buffer = self._buffer
        if self._head is None:
            while buffer.startswith(b"\r\n"):
                del buffer[:2]
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise _BadRequest(431, "request header too large")
                return None
            self._head = _parse_head(buffer, head_end)
            self._continue_sent = False
        head = self._head
        if len(buffer) < head.end:
            if not self._continue_sent and head.headers.get("expect", "").lower() == "100-continue":
                self._continue_sent = True
                self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return None
        body = bytes(buffer[head.body_start : head.end])
        del buffer[: head.end]
        self._head = None
        path, _, query = head.target.partition("?")
        return HttpRequest(head.method, path, query, head.headers, body, head.keep_alive)

    def _dispatch(self, request: HttpRequest) -> None:
        self._keep_alive = request.keep_alive
        self._responded = False
        try:
            pending = self._handler(request, self)
        except Exception:
            log.exception("mock handler failed on %s %s", request.method, request.path)
            self.abort()
            return
        if pending is not None:
            self._task = asyncio.get_running_loop().create_task(pending)
            self._task.add_done_callback(self._on_task_done)
        elif not self._responded:
            log.error("mock handler left %s %s unanswered", request.method, request.path)
            self.abort()

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if task.cancelled():
            return
        if (exc := task.exception()) is not None:
            log.error("mock handler failed", exc_info=exc)
            self.abort()
        elif not self._responded:
            self.abort()
        else:
            self._process()

    def _flow_control(self) -> None:
        if self._transport is None or self._lost:
            return
        busy = self._task is not None
        if busy and not self._reading_paused and len(self._buffer) > PAUSE_READING_BYTES:
            self._reading_paused = True
            self._transport.pause_reading()
        elif not busy and self._reading_paused:
            self._reading_paused = False
            self._transport.resume_reading()

    def _render_head(
        self, status: int, content_type: str, headers: Iterable[Header], framing: str
    ) -> bytes:
        lines = [f"HTTP/1.1 {status} {_reason(status)}", f"content-type: {content_type}", framing]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if not self._keep_alive:
            lines.append("connection: close")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1")

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _finish(self, data: bytes) -> None:
        self._responded = True
        self._write(data)
        if not self._keep_alive and self._transport is not None:
            self._closed_by_us = True
            self._transport.close()

    def _wake_drain(self) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class HttpServer:
    """Listens on a TCP port and serves every connection with one handler."""

    def __init__(self, handler: Handler, render_error: ErrorRenderer) -> None:
        self._handler = handler
        self._render_error = render_error
        self._connections: set[HttpConnection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Start listening; returns the bound port (useful when port is 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HttpConnection(self._handler, self._render_error, self._connections),
            host,
            port,
            backlog=4096,
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening, drop open connections and wait for their tasks to end."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        tasks = [task for conn in list(self._connections) if (task := conn.shutdown())]
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
