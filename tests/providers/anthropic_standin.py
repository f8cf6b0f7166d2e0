"""A local stand-in for api.anthropic.com: replays recorded replies and records what it received.

Streamed fixtures are written in small odd-sized pieces so that events arrive split mid-line,
as they do over a real network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

FIXTURES = Path(__file__).with_name("fixtures") / "anthropic"
PIECE_BYTES = 61


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False

    @classmethod
    def fixture(cls, name: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """A recorded reply; `.sse` files are served as an event stream."""
        body = (FIXTURES / name).read_bytes()
        return cls(status, body, headers or {}, stream=name.endswith(".sse"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any]


class AnthropicStandIn:
    """`replies` are served in order, one a request; `received` lists the requests seen."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> AnthropicStandIn:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(request.path, headers, orjson.loads(await request.read())))
        reply = self.replies.pop(0)
        if not reply.stream:
            return web.Response(
                status=reply.status,
                body=reply.body,
                headers={"content-type": "application/json", **reply.headers},
            )
        response = web.StreamResponse(
            status=reply.status, headers={"content-type": "text/event-stream", **reply.headers}
        )
        await response.prepare(request)
        for start in range(0, len(reply.body), PIECE_BYTES):
            await response.write(reply.body[start : start + PIECE_BYTES])
        await response.write_eof()
        return response
