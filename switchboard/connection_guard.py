"""Bounds on what one HTTP connection can make the server hold: uvicorn's httptools protocol
bounds neither the size of a request head nor the time a client may take to send a head or a
body. `GuardedProtocol` adds both, counting while bytes arrive, so a 64 MiB header is refused
after ~64 KiB and a trickled request is cut (docs/security.md).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from switchboard.api.render import error_json
from switchboard.config import Settings
from switchboard.errors import InvalidRequest

log = logging.getLogger("switchboard.server")

# What a connection is waiting for from its client.
_NEW = 4  # its first request, the head deadline counted from connect
_IDLE = 0  # nothing: between requests (uvicorn's keep-alive timer runs once a response is sent)
_HEAD = 1  # the rest of a request head
_BODY = 2  # the rest of a request body
_CLOSING = 3  # nothing more: an error was sent, the connection is closing


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may make the server hold, in bytes and seconds."""

    max_head_bytes: int
    max_headers: int
    head_timeout_s: float
    body_timeout_s: float
    body_min_rate: int
    linger_s: float = 2.0  # after an error: read and drop the client's bytes this long ...
    linger_bytes: int = 1 << 20  # ... or this many, so that it sees the response, not a reset

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_head_bytes=settings.max_head_bytes,
            max_headers=settings.max_headers,
            head_timeout_s=settings.head_timeout_s,
            body_timeout_s=settings.body_timeout_s,
            body_min_rate=settings.body_min_rate,
        )


def _error_response(status: int, message: str, code: str) -> bytes:
    body = orjson.dumps(error_json(InvalidRequest(message, code=code)))
    head = b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
    return STATUS_LINE[status] + head % len(body) + body


HEAD_TOO_LARGE = _error_response(
    431, "The request line and headers are too large.", "request_header_fields_too_large"
)
TOO_MANY_HEADERS = _error_response(431, "The request has too many headers.", "too_many_headers")
HEAD_TIMEOUT = _error_response(408, "The request headers took too long.", "request_timeout")
BODY_TIMEOUT = _error_response(408, "The request body took too long.", "request_timeout")


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that breaks a limit."""

    def __init__(self, response: bytes) -> None:
        self.response = response


@dataclass(slots=True)
class _Reading:
    """What a connection is reading, and by when (one slotted object: uvicorn's protocol already
    has so many attributes that more would slow every attribute access on the hot path)."""

    limits: ConnectionLimits
    state: int = _NEW
    size: int = 0  # bytes of the read being parsed
    counting: bool = False  # that read began inside the current head
    head_deadline: float = 0.0  # 0: not yet set for this head
    head_read: int = 0  # raw bytes of reads that held only the current head
    head_bound: int = 0  # raw bytes of every read since the head began: a bound on its size
    body_started: float = 0.0
    body_read: int = 0
    body_progress: float = 0.0
    timer: asyncio.TimerHandle | None = None
    timer_at: float = 0.0
    linger_left: int = 0

    def body_deadline(self) -> float:
        """No progress for body_timeout_s, or slower than body_min_rate once it has passed."""
        limits = self.limits
        stalled = self.body_progress + limits.body_timeout_s
        if limits.body_min_rate == 0:
            return stalled
        slow = self.body_started + limits.body_timeout_s + self.body_read / limits.body_min_rate
        return min(stalled, slow)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head and read deadlines.

    One timer per connection; progress only moves a deadline, and the timer re-arms itself when
    it fires early, so a request that arrives in one read arms nothing.
    """

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._r = _Reading(self.limits)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        r = self._r
        r.head_deadline = self.loop.time() + r.limits.head_timeout_s
        self._arm(r.head_deadline)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        r = self._r
        state = r.state
        if state == _CLOSING:
            self._drop(len(data))
            return
        self._unset_keepalive_if_required()
        r.counting = state != _BODY
        r.size = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            refused = exc.__cause__ or exc.__context__
            if not isinstance(refused, _Refused):
                raise
            log.warning("refused a request head: %s", refused.response.split(b"\r\n", 1)[0])
            self._close_with(refused.response)
            return
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if r.state == _HEAD:
            self._head_arrived(len(data))
        elif r.state == _BODY:
            self._body_arrived(len(data), state == _BODY)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        self._r.state = _CLOSING
        super().handle_websocket_upgrade()

    # httptools callbacks
    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        r = self._r
        if r.state == _IDLE:
            r.head_deadline = 0.0  # set once the head is seen to span reads
        r.state = _HEAD
        r.head_read = r.head_bound = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self.headers
        if len(headers) >= self._r.limits.max_headers:
            raise _Refused(TOO_MANY_HEADERS)
        name = name.lower()  # the rest as uvicorn's on_header, inlined: it runs for every header
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        headers.append((name, value))

    def on_headers_complete(self) -> None:
        r = self._r
        if r.head_bound + r.size > r.limits.max_head_bytes:
            self._check_head_size()  # only a head that arrived with this many bytes can be over
        r.state = _BODY
        r.counting = False
        r.body_started = 0.0
        HttpToolsProtocol.on_headers_complete(self)

    def on_message_complete(self) -> None:
        self._r.state = _IDLE
        HttpToolsProtocol.on_message_complete(self)

    # limits
    def _check_head_size(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self._r.limits.max_head_bytes:
            raise _Refused(HEAD_TOO_LARGE)

    def _head_arrived(self, size: int) -> None:
        r = self._r
        r.head_bound += size
        if r.counting:
            r.head_read += size
            if r.head_read > r.limits.max_head_bytes:
                log.warning("refused a request head over %d bytes", r.limits.max_head_bytes)
                self._close_with(HEAD_TOO_LARGE)
                return
        if r.head_deadline == 0.0:
            r.head_deadline = self.loop.time() + r.limits.head_timeout_s
            self._arm(r.head_deadline)

    def _body_arrived(self, size: int, only_body: bool) -> None:
        r = self._r
        now = self.loop.time()
        r.body_progress = now
        if r.body_started == 0.0 or not only_body:
            r.body_started = now
            r.body_read = 0
        else:
            r.body_read += size
        self._arm(r.body_deadline())

    def _on_timer(self) -> None:
        r = self._r
        r.timer = None
        now = self.loop.time()
        if r.state in (_NEW, _HEAD) and r.head_deadline:
            if now < r.head_deadline:
                self._arm(r.head_deadline)
            elif r.state == _HEAD:
                self._close_with(HEAD_TIMEOUT)
            else:
                self._close_with(None)  # connected and sent nothing: close as an idle keep-alive
        elif r.state == _BODY:
            cycle = self.cycle
            if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
                # the app holds the body up, not the client: start counting again
                r.body_progress = r.body_started = now
                r.body_read = 0
                self._arm(r.body_deadline())
            elif now < r.body_deadline():
                self._arm(r.body_deadline())
            else:
                self._close_with(BODY_TIMEOUT)

    def _arm(self, at: float) -> None:
        r = self._r
        if r.timer is not None:
            if r.timer_at <= at:
                return  # it fires first and re-arms for the rest
            r.timer.cancel()
        r.timer_at = at
        r.timer = self.loop.call_at(at, self._on_timer)

    def _disarm(self) -> None:
        r = self._r
        if r.timer is not None:
            r.timer.cancel()
            r.timer = None

    def _close_with(self, response: bytes | None) -> None:
        """Answer (unless a response of another request is under way) and close."""
        r = self._r
        cycle = self.cycle
        busy = cycle is not None and not cycle.response_complete
        if busy and r.state == _BODY and not cycle.response_started:
            cycle.disconnected = True  # the app sees http.disconnect; its reply goes nowhere
            cycle.message_event.set()
            busy = False
        r.state = _CLOSING
        self._disarm()
        self._unset_keepalive_if_required()
        if response is None or busy or self.transport.is_closing():
            self.transport.close()
            return
        self.transport.write(response)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.flow.resume_reading()
        r.linger_left = r.limits.linger_bytes
        r.timer = self.loop.call_later(r.limits.linger_s, self.transport.close)

    def _drop(self, size: int) -> None:
        r = self._r
        r.linger_left -= size
        if r.linger_left < 0:
            self.transport.close()
