"""A local stand-in for bedrock-runtime: Converse, ConverseStream and InvokeModel on the wire.

It speaks what botocore expects: JSON replies with `x-amzn-RequestId`, errors typed by
`x-amzn-ErrorType`, and ConverseStream as `application/vnd.amazon.eventstream` binary frames
(encoded here; tests check the encoder against botocore's decoder). It records every request
it received, and notices when a client hangs up on a stream.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

FIXTURES = Path(__file__).with_name("fixtures") / "bedrock"
PIECE_BYTES = 37  # frames go out in odd-sized pieces, split mid-frame as over a real network
_STRING_HEADER = 7


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (lengths + CRC32), string headers, payload, CRC32."""
    encoded = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack("!B", len(raw_name)) + raw_name
        encoded += struct.pack("!BH", _STRING_HEADER, len(raw_value)) + raw_value
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_frame(headers, orjson.dumps(payload))


def exception_frame(exception_type: str, payload: dict[str, Any]) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_frame(headers, orjson.dumps(payload))


def fixture_frames(name: str) -> list[bytes]:
    """A `.jsonl` fixture, one `{"event"|"exception": type, "payload": {...}}` a line."""
    frames = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = orjson.loads(line)
        if "exception" in item:
            frames.append(exception_frame(item["exception"], item["payload"]))
        else:
            frames.append(event_frame(item["event"], item["payload"]))
    return frames


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    frames: list[bytes] | None = None  # set: an event stream
    endless: bool = False  # after `frames`, keep streaming text until the client hangs up
    delay: float = 0.0  # wait this long before answering
    stall: float = 0.0  # after `frames`, wait this long before ending the stream

    @classmethod
    def json(cls, name: str) -> Reply:
        return cls(body=(FIXTURES / name).read_bytes())

    @classmethod
    def stream(cls, name: str, *, endless: bool = False, stall: float = 0.0) -> Reply:
        return cls(frames=fixture_frames(name), endless=endless, stall=stall)

    @classmethod
    def error(cls, status: int, error_type: str, name: str) -> Reply:
        """An error reply typed the way AWS's REST-JSON services type theirs."""
        kind = f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        return cls(status, (FIXTURES / name).read_bytes(), {"x-amzn-ErrorType": kind})


@dataclass
class Received:
    operation: str  # converse | converse-stream | invoke
    model_id: str
    raw_path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any]
    peer_port: int


class BedrockStandIn:
    """`replies` are served in order, one a chat request; InvokeModel answers from its input."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        self.request_ids: list[str] = []
        self.disconnected = asyncio.Event()
        self.endpoint_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> BedrockStandIn:
        app = web.Application()
        app.router.add_post("/model/{model_id}/{operation}", self._operation)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.endpoint_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _operation(self, request: web.Request) -> web.StreamResponse:
        operation = request.match_info["operation"]
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.received.append(
            Received(
                operation=operation,
                model_id=request.match_info["model_id"],
                raw_path=request.raw_path,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=orjson.loads(await request.read()),
                peer_port=peer[1] if peer else 0,
            )
        )
        request_id = str(uuid.uuid4())
        self.request_ids.append(request_id)
        if operation == "invoke":
            return self._titan_embedding(self.received[-1].body, request_id)
        reply = self.replies.pop(0)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        headers = {"x-amzn-RequestId": request_id, **reply.headers}
        if reply.frames is None:
            headers["content-type"] = "application/json"
            return web.Response(status=reply.status, body=reply.body, headers=headers)
        return await self._stream(request, reply, headers)

    async def _stream(
        self, request: web.Request, reply: Reply, headers: dict[str, str]
    ) -> web.StreamResponse:
        headers["content-type"] = "application/vnd.amazon.eventstream"
        response = web.StreamResponse(status=reply.status, headers=headers)
        await response.prepare(request)
        frames = list(reply.frames or ())
        try:
            for frame in frames:
                await self._write(response, frame)
            while reply.endless:
                delta = {"contentBlockIndex": 0, "delta": {"text": " more"}}
                await self._write(response, event_frame("contentBlockDelta", delta))
                await asyncio.sleep(0.01)
            await asyncio.sleep(reply.stall)
        except ConnectionError:
            self.disconnected.set()
            return response
        except asyncio.CancelledError:  # the client hung up while the handler waited
            self.disconnected.set()
            raise
        await response.write_eof()
        return response

    async def _write(self, response: web.StreamResponse, frame: bytes) -> None:
        for start in range(0, len(frame), PIECE_BYTES):
            await response.write(frame[start : start + PIECE_BYTES])

    def _titan_embedding(self, body: dict[str, Any], request_id: str) -> web.Response:
        """A vector that tells which input it belongs to: its first value is the text's length."""
        text = str(body.get("inputText", ""))
        size = int(body.get("dimensions") or 4)
        payload = {
            "embedding": [float(len(text))] + [0.25] * (size - 1),
            "inputTextTokenCount": len(text.split()),
        }
        headers = {"x-amzn-RequestId": request_id, "content-type": "application/json"}
        return web.Response(body=orjson.dumps(payload), headers=headers)
