"""The hostile side of bench/hostile_load.py: slow heads, huge, malformed and deeply nested bodies,
streams cut short, WebSocket churn and an unauthenticated flood, all at once for SECONDS.

Run as a process of its own so that its CPU does not sit in the honest client's event loop:

    python -m bench.hostile_clients http://127.0.0.1:PORT API_KEY SECONDS [ATTACK,ATTACK...]

Prints one JSON object: for each attack, how many attempts ended how (a status, or an error name).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import connect as ws_connect

CHAT = "/v1/chat/completions"
BIG_BODY = 16 * 1024 * 1024
CHUNK = b"x" * (256 * 1024)
SLOW_CONNECTIONS = 100

Attempt = Callable[[], Awaitable[str]]


def _chat(model: str = "mock", stream: bool = False) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return json.dumps(body).encode()


def _head(path: str, length: int, key: str | None, extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{auth}{extra}\r\n"
    ).encode()


async def _status(reader: asyncio.StreamReader, wait_s: float = 10.0) -> str:
    """The status code of the first response line, or 'eof' when the server just closed."""
    line = await asyncio.wait_for(reader.readline(), wait_s)
    parts = line.split()
    return parts[1].decode() if len(parts) > 1 else "eof"


class Attacks:
    """One gateway, one key; each method is one attempt of one attack and says how it ended."""

    def __init__(self, url: str, key: str, http: httpx.AsyncClient, deadline: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.url, self.key, self.http, self.deadline = url, key, http, deadline

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)

    async def slow_head(self) -> str:
        """A partial request head, then one byte a second until the server gives up on it."""
        reader, writer = await self._open()
        try:
            writer.write(f"POST {CHAT} HTTP/1.1\r\nHost: gateway\r\nX-Slow: ".encode())
            while time.monotonic() < self.deadline:
                await writer.drain()
                try:
                    return await _status(reader, wait_s=1.0)
                except TimeoutError:
                    writer.write(b"a")
            return "open_at_end"
        finally:
            writer.close()

    async def _big_body(self, key: str | None) -> str:
        reader, writer = await self._open()
        try:
            writer.write(_head(CHAT, BIG_BODY, key))
            try:
                for _ in range(BIG_BODY // len(CHUNK)):
                    writer.write(CHUNK)
                    await writer.drain()
            except ConnectionError:
                pass  # the server answered early and closed: read what it said
            return await _status(reader)
        finally:
            writer.close()

    async def big_body_anonymous(self) -> str:
        return await self._big_body(None)

    async def big_body_with_key(self) -> str:
        return await self._big_body(self.key)

    async def _post(self, body: bytes, key: str | None) -> str:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers["Content-Type"] = "application/json"
        resp = await self.http.post(f"{self.url}{CHAT}", content=body, headers=headers)
        return str(resp.status_code)

    async def malformed_json(self) -> str:
        return await self._post(b'{"model": "mock", "messages": [{"role": "user", "cont', self.key)

    async def deep_json(self) -> str:
        depth = 50_000
        return await self._post(
            b'{"model": "mock", "x": ' + b"[" * depth + b"]" * depth + b"}", self.key
        )

    async def unauthenticated(self) -> str:
        return await self._post(_chat(), None)

    async def wrong_key(self) -> str:
        return await self._post(_chat(), "sk-sb-not-a-real-key-000000000000")

    async def cut_mid_stream(self) -> str:
        """A long stream, dropped after its first chunk."""
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        body = _chat("mock-slow", stream=True)
        async with self.http.stream(
            "POST", f"{self.url}{CHAT}", content=body, headers=headers
        ) as r:
            async for _ in r.aiter_raw():
                break
            return str(r.status_code)

    async def cut_before_first_token(self) -> str:
        """The whole request sent, the connection closed before the (late) first token."""
        _, writer = await self._open()
        body = _chat("mock-late", stream=True)
        writer.write(_head(CHAT, len(body), self.key) + body)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        return "closed"

    async def websocket_churn(self) -> str:
        """Connect, send one message, read its ack, close."""
        url = f"{self.url.replace('http', 'ws', 1)}/ws/chat/churn"
        headers = {"Authorization": f"Bearer {self.key}"}
        async with ws_connect(url, additional_headers=headers, open_timeout=10) as ws:
            await ws.send(json.dumps({"id": "m", "message": "hi"}))
            return str(json.loads(await asyncio.wait_for(ws.recv(), 10)).get("type"))


async def _repeat(name: str, attempt: Attempt, deadline: float, tally: Counter[str]) -> None:
    """Run one attack again and again until the deadline, counting how each attempt ended."""
    while time.monotonic() < deadline:
        try:
            outcome = await attempt()
        except Exception as exc:
            outcome = type(exc).__name__
            await asyncio.sleep(0.01)
        tally[f"{name}|{outcome}"] += 1


def _workers(attacks: Attacks) -> list[tuple[str, Attempt, int]]:
    """(attack name, one attempt, concurrent copies)."""
    return [
        ("slow_head", attacks.slow_head, SLOW_CONNECTIONS),
        ("big_body_anonymous", attacks.big_body_anonymous, 1),
        ("big_body_with_key", attacks.big_body_with_key, 1),
        ("malformed_json", attacks.malformed_json, 1),
        ("deep_json", attacks.deep_json, 1),
        ("cut_mid_stream", attacks.cut_mid_stream, 2),
        ("cut_before_first_token", attacks.cut_before_first_token, 2),
        ("websocket_churn", attacks.websocket_churn, 2),
        ("unauthenticated", attacks.unauthenticated, 3),
        ("wrong_key", attacks.wrong_key, 1),
    ]


def _outcomes(tally: Counter[str]) -> dict[str, dict[str, int]]:
    report: dict[str, dict[str, int]] = {}
    for label, count in sorted(tally.items()):
        name, outcome = label.split("|", 1)
        report.setdefault(name, {})[outcome] = count
    return report


async def attack(
    url: str, key: str, seconds: float, only: set[str] | None = None
) -> dict[str, dict[str, int]]:
    """Every attack (or those named in `only`) at once for `seconds`; how each attempt ended."""
    deadline = time.monotonic() + seconds
    tally: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    async with httpx.AsyncClient(timeout=15, limits=limits) as http:
        attacks = Attacks(url, key, http, deadline)
        await asyncio.gather(
            *(
                _repeat(name, attempt, deadline, tally)
                for name, attempt, copies in _workers(attacks)
                if only is None or name in only
                for _ in range(copies)
            )
        )
    return _outcomes(tally)


def main(argv: list[str]) -> int:
    url, key, seconds = argv[0], argv[1], float(argv[2])
    only = set(argv[3].split(",")) if len(argv) > 3 else None
    print(json.dumps(asyncio.run(attack(url, key, seconds, only))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
