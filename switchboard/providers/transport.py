"""The one place HTTP upstream I/O happens: a pooled aiohttp session per deployment.

Adapters hand it an UpstreamRequest; it applies timeouts, maps network failures to
ProviderError types and lets the adapter map HTTP error statuses. Every attempt carries the
request's `X-Request-ID` and a W3C `traceparent`, and every failure is logged with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from switchboard.errors import (
    ProviderError,
    StreamInterrupted,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from switchboard.observability.trace import current_request
from switchboard.providers.base import SseEvent, UpstreamRequest
from switchboard.providers.sse import iter_sse

log = logging.getLogger("switchboard.upstream")

ErrorMapper = Callable[[int, bytes, dict[str, str]], ProviderError]


@dataclass(frozen=True, slots=True)
class TransportConfig:
    base_url: str
    label: str  # deployment id, used in error messages instead of the URL
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_connections: int = 1000
    headers: tuple[tuple[str, str], ...] = ()


class HttpTransport:
    """Sends adapter requests over one keep-alive connection pool."""

    def __init__(self, config: TransportConfig) -> None:
        self._config = config
        self._base = config.base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        c = config
        self._call_timeout = aiohttp.ClientTimeout(total=c.timeout, sock_connect=c.connect_timeout)
        # a stream may run long: bound the wait for each piece instead of the whole
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=c.connect_timeout, sock_read=c.timeout
        )

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._config.max_connections, ttl_dns_cache=300, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=dict(self._config.headers),
                skip_auto_headers=("User-Agent",),
                auto_decompress=True,
            )

    def is_ready(self) -> bool:
        return self._session is not None and not self._session.closed

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _session_or_fail(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise UpstreamUnavailable(f"upstream {self._config.label} is not started")
        return self._session

    def _open(self, request: UpstreamRequest, *, stream: bool) -> Any:
        """The request as an `async with` context that yields the response."""
        session = self._session_or_fail()
        headers = request.headers
        trace = current_request.get()
        if trace is not None:
            headers = {**headers, **dict(trace.attempt(self._config.label))}
        return session.request(
            request.method,
            self._base + request.path,
            data=request.body,
            headers=headers,
            timeout=self._stream_timeout if stream else self._call_timeout,
        )

    def _failed(self, status: int | None, err: ProviderError) -> ProviderError:
        """Log the failure of this attempt (once) and hand the error back to raise."""
        reason = f"{err.code}: {err.message}"[:300]
        trace = current_request.get()
        if trace is not None:
            trace.failed(self._config.label, status, reason)
        else:
            fields = {"deployment": self._config.label, "reason": reason, "upstream_status": status}
            log.warning("upstream failure", extra={"fields": fields})
        return err

    async def send(self, request: UpstreamRequest, on_error: ErrorMapper) -> bytes:
        """Send and return the body of a 2xx response; raise ProviderError otherwise."""
        try:
            async with self._open(request, stream=False) as resp:
                body = await resp.read()
                if resp.status >= 400:
                    raise self._failed(resp.status, on_error(resp.status, body, dict(resp.headers)))
                return body
        except ProviderError:
            raise
        except Exception as exc:
            raise self._failed(None, self._network_error(exc)) from None

    async def stream_events(
        self, request: UpstreamRequest, on_error: ErrorMapper
    ) -> AsyncGenerator[SseEvent, None]:
        """Yield the SSE events of a streamed response; closing the iterator drops the upstream."""
        started = False
        try:
            async with self._open(request, stream=True) as resp:
                if resp.status >= 400:
                    body = await resp.read()
                    raise self._failed(resp.status, on_error(resp.status, body, dict(resp.headers)))
                try:
                    async for event in iter_sse(resp.content.iter_any()):
                        started = True
                        yield event
                finally:
                    if not resp.content.at_eof():
                        resp.close()  # abandon the connection so the upstream sees the cancel
        except ProviderError:
            raise
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            err = self._network_error(exc)
            if started and not isinstance(err, UpstreamTimeout):
                label = self._config.label
                err = StreamInterrupted(f"upstream {label} stream broke: {err.message}")
            raise self._failed(None, err) from None

    def _network_error(self, exc: BaseException) -> ProviderError:
        label = self._config.label
        if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return UpstreamTimeout(f"upstream {label} timed out")
        if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
            return StreamInterrupted(f"upstream {label} closed the connection mid-response")
        if isinstance(exc, aiohttp.ClientError | OSError):
            return UpstreamUnavailable(f"upstream {label} is unreachable ({type(exc).__name__})")
        return ProviderError(f"upstream {label} failed ({type(exc).__name__})")
