"""The mock OpenAI-compatible provider Switchboard ships, for its tests and for users' load tests.

It answers chat completions (plain and streamed), embeddings and the model list in OpenAI's wire
format, with configurable latency and injected faults (errors, hangs, cut streams), and counts
what it saw so that tests can assert on what the gateway sent upstream.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import os
import random
import signal
import struct
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, replace
from typing import Any

from switchboard.testing.mock_http import HttpConnection, HttpRequest, HttpServer

try:
    import orjson

    _dumps: Callable[[Any], bytes] = orjson.dumps
    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency
    import json

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    _loads = json.loads

_LOREM = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")
_STREAM_HEADERS = (("cache-control", "no-cache"),)
_Pending = Coroutine[Any, Any, None] | None


@dataclass(frozen=True)
class MockConfig:
    ttft_ms: float = 0.0  # delay before the first token / before the JSON response
    itl_ms: float = 0.0  # delay between streamed tokens (inter-token latency)
    tokens: int = 16  # completion tokens per response
    error_rate: float = 0.0  # fraction of requests answered with error_status
    error_status: int = 500
    hang_rate: float = 0.0  # fraction of requests that never answer
    cut_stream_rate: float = 0.0  # fraction of streams cut midway, after about half the tokens
    seed: int | None = None
    model: str = "mock-model"


@dataclass
class MockStats:
    """What the mock has seen since start or the last reset (/mock/* calls are not counted)."""

    requests: int = 0
    chat_requests: int = 0
    stream_requests: int = 0
    embedding_requests: int = 0
    errors_injected: int = 0
    hangs: int = 0
    cuts: int = 0
    completed_streams: int = 0
    client_disconnects: int = 0  # streams whose client left before the stream finished


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one request is answered, after header overrides and the configured dice."""

    ttft_s: float
    itl_s: float
    tokens: int
    error_status: int | None
    hang: bool
    truncated: bool  # the request's max_tokens cut the answer short
    cut_after: int | None  # close the stream after this many content tokens


class _BadInput(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def error_body(status: int, message: str, param: str | None = None) -> bytes:
    """Render an error in OpenAI's envelope, with the type and code OpenAI uses for the status."""
    match status:
        case 429:
            kind, code = "requests", "rate_limit_exceeded"
        case 401:
            kind, code = "invalid_request_error", "invalid_api_key"
        case 404:
            kind, code = "invalid_request_error", "unknown_url"
        case _ if status >= 500:
            kind, code = "server_error", None
        case _:
            kind, code = "invalid_request_error", None
    return _dumps({"error": {"message": message, "type": kind, "param": param, "code": code}})


def _words(count: int) -> list[str]:
    return [_LOREM[i % len(_LOREM)] for i in range(count)]


def _prompt_tokens(messages: list[Any]) -> int:
    """A deterministic stand-in for a tokenizer: about four characters a token."""
    chars = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else None
                chars += len(text) if isinstance(text, str) else 0
    return chars // 4 + 1


def _embedding_inputs(raw: Any) -> list[tuple[bytes, int]]:
    """Each input as (hash key, token count); accepts a string, strings, or token arrays."""
    if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise _BadInput("'input' must be a non-empty string or array", "input")
    items = []
    for item in raw:
        if isinstance(item, str):
            items.append((item.encode(), len(item) // 4 + 1))
        elif isinstance(item, list) and all(isinstance(t, int) for t in item):
            items.append((_dumps(item), len(item)))
        else:
            raise _BadInput("'input' items must be strings or arrays of token ids", "input")
    return items


def _embedding(key: bytes, dim: int) -> bytes:
    """A unit vector derived from the text's hash, as little-endian float32."""
    raw = struct.unpack(f"<{dim}I", hashlib.shake_128(key).digest(4 * dim))
    values = [x / 2**31 - 1.0 for x in raw]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return struct.pack(f"<{dim}f", *(v / norm for v in values))


def _header_number(headers: dict[str, str], name: str, cast: Callable[[str], Any]) -> Any:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return cast(value)
    except ValueError:
        raise _BadInput(f"invalid {name} header: {value!r}", name) from None


class MockProvider:
    """An OpenAI-compatible upstream with tunable latency and faults; one instance, one port."""

    def __init__(self, config: MockConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._stats = MockStats()
        self._last: tuple[str, dict[str, str], Any] | None = None
        self._id_prefix = os.urandom(4).hex()
        self._next_id = 0
        self._server = HttpServer(self._handle, lambda status, msg: error_body(status, msg))
        self._routes: dict[tuple[str, str], Callable[[HttpRequest, Any, HttpConnection], _Pending]]
        self._routes = {
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/embeddings"): self._embeddings,
            ("GET", "/v1/models"): self._models,
            ("GET", "/health"): lambda r, b, conn: conn.respond(200, b'{"status":"ok"}'),
            ("GET", "/mock/stats"): lambda r, b, conn: conn.respond(
                200, _dumps(asdict(self.stats))
            ),
            ("POST", "/mock/reset"): self._reset,
            ("GET", "/mock/last_request"): self._last_request,
        }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start serving; returns the bound port."""
        return await self._server.start(host, port)

    async def stop(self) -> None:
        await self._server.stop()

    @property
    def stats(self) -> MockStats:
        """A snapshot of the counters."""
        return replace(self._stats)

    # --- dispatch ---------------------------------------------------------------------------

    def _handle(self, request: HttpRequest, conn: HttpConnection) -> _Pending:
        route = self._routes.get((request.method, request.path))
        if route is None:
            message = f"Invalid URL ({request.method} {request.path})"
            conn.respond(404, error_body(404, message))
            return None
        try:
            body = _loads(request.body) if request.body else {}
        except ValueError:
            body = None
        if not request.path.startswith("/mock/"):
            self._stats.requests += 1
            self._last = (request.path, request.headers, body)
        try:
            if not isinstance(body, dict):
                raise _BadInput("We could not parse the JSON body of your request.")
            return route(request, body, conn)
        except _BadInput as exc:
            conn.respond(400, error_body(400, exc.message, exc.param))
            return None

    def _plan(self, headers: dict[str, str], tokens_cap: int | None, stream: bool) -> _Plan:
        cfg, rng = self._config, self._rng
        ttft = _header_number(headers, "x-mock-ttft-ms", float)
        itl = _header_number(headers, "x-mock-itl-ms", float)
        tokens = _header_number(headers, "x-mock-tokens", int)
        tokens = max(0, cfg.tokens if tokens is None else tokens)
        truncated = tokens_cap is not None and tokens_cap < tokens
        if tokens_cap is not None:
            tokens = max(0, min(tokens, tokens_cap))
        error = _header_number(headers, "x-mock-error-status", int)
        if error is None and cfg.error_rate > 0 and rng.random() < cfg.error_rate:
            error = cfg.error_status
        hang = headers.get("x-mock-hang", "").lower() in ("1", "true", "yes")
        hang = hang or (cfg.hang_rate > 0 and rng.random() < cfg.hang_rate)
        cut = _header_number(headers, "x-mock-cut-after", int)
        if cut is None and stream and cfg.cut_stream_rate > 0:
            cut = tokens // 2 if rng.random() < cfg.cut_stream_rate else None
        ttft_ms = cfg.ttft_ms if ttft is None else ttft
        itl_ms = cfg.itl_ms if itl is None else itl
        return _Plan(ttft_ms / 1000, itl_ms / 1000, tokens, error, hang, truncated, cut)

    def _fault(self, plan: _Plan, conn: HttpConnection) -> _Pending:
        if plan.hang:
            self._stats.hangs += 1
            return _hang()
        assert plan.error_status is not None
        self._stats.errors_injected += 1
        status = plan.error_status
        headers = (("retry-after", "1"),) if status == 429 else ()
        message = f"Injected error {status} from the mock provider."
        conn.respond(status, error_body(status, message), headers=headers)
        return None

    def _new_id(self, prefix: str) -> str:
        self._next_id += 1
        return f"{prefix}-{self._id_prefix}{self._next_id:016x}"

    # --- OpenAI endpoints -------------------------------------------------------------------

    def _chat(self, request: HttpRequest, body: dict[str, Any], conn: HttpConnection) -> _Pending:
        self._stats.chat_requests += 1
        stream = body.get("stream") is True
        self._stats.stream_requests += stream
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise _BadInput("'messages' is a required property", "messages")
        cap = body.get("max_completion_tokens", body.get("max_tokens"))
        plan = self._plan(request.headers, cap if isinstance(cap, int) else None, stream)
        if plan.hang or plan.error_status is not None:
            return self._fault(plan, conn)
        finish = "length" if plan.truncated else "stop"
        model = body.get("model") if isinstance(body.get("model"), str) else self._config.model
        base = {"id": self._new_id("chatcmpl"), "created": int(time.time()), "model": model}
        usage = _usage(_prompt_tokens(messages), plan.tokens)
        if stream:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            return self._stream(conn, plan, base, finish, usage if include_usage else None)
        message = {"role": "assistant", "content": " ".join(_words(plan.tokens))}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        payload = _dumps({**base, "object": "chat.completion", "choices": [choice], "usage": usage})
        if plan.ttft_s <= 0:
            conn.respond(200, payload)
            return None
        return _respond_later(conn, plan.ttft_s, payload)

    async def _stream(
        self,
        conn: HttpConnection,
        plan: _Plan,
        base: dict[str, Any],
        finish: str,
        usage: dict[str, int] | None,
    ) -> None:
        base = {**base, "object": "chat.completion.chunk"}

        def event(delta: dict[str, str], reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
            return b"data: " + _dumps({**base, "choices": [choice]}) + b"\n\n"

        try:
            if plan.ttft_s > 0:
                await asyncio.sleep(plan.ttft_s)
            role = event({"role": "assistant", "content": ""})
            conn.start_chunked(200, "text/event-stream; charset=utf-8", _STREAM_HEADERS, role)
            for i, word in enumerate(_words(plan.tokens)):
                if plan.cut_after is not None and i >= plan.cut_after:
                    break
                if i and plan.itl_s > 0:
                    await asyncio.sleep(plan.itl_s)
                conn.write_chunk(event({"content": f" {word}" if i else word}))
                await conn.drain()
            if plan.cut_after is not None:
                self._stats.cuts += 1
                conn.abort()
                return
            tail = event({}, finish)
            if usage is not None:
                tail += b"data: " + _dumps({**base, "choices": [], "usage": usage}) + b"\n\n"
            conn.end_chunked(tail + b"data: [DONE]\n\n")
            self._stats.completed_streams += 1
        except asyncio.CancelledError:
            if conn.closed_by_peer:
                self._stats.client_disconnects += 1
            raise

    def _embeddings(
        self, request: HttpRequest, body: dict[str, Any], conn: HttpConnection
    ) -> _Pending:
        self._stats.embedding_requests += 1
        items = _embedding_inputs(body.get("input"))
        dim = body.get("dimensions", 8)
        if not isinstance(dim, int) or not 1 <= dim <= 4096:
            raise _BadInput("'dimensions' must be an integer between 1 and 4096", "dimensions")
        as_base64 = body.get("encoding_format") == "base64"
        plan = self._plan(request.headers, None, stream=False)
        if plan.hang or plan.error_status is not None:
            return self._fault(plan, conn)
        data = []
        for index, (key, _) in enumerate(items):
            packed = _embedding(key, dim)
            vector: Any = (
                base64.b64encode(packed).decode()
                if as_base64
                else list(struct.unpack(f"<{dim}f", packed))
            )
            data.append({"object": "embedding", "index": index, "embedding": vector})
        tokens = sum(count for _, count in items)
        model = body.get("model") if isinstance(body.get("model"), str) else self._config.model
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        payload = _dumps({"object": "list", "data": data, "model": model, "usage": usage})
        if plan.ttft_s <= 0:
            conn.respond(200, payload)
            return None
        return _respond_later(conn, plan.ttft_s, payload)

    def _models(self, request: HttpRequest, body: Any, conn: HttpConnection) -> _Pending:
        model = {
            "id": self._config.model,
            "object": "model",
            "created": 0,
            "owned_by": "switchboard-mock",
        }
        conn.respond(200, _dumps({"object": "list", "data": [model]}))
        return None

    # --- test hooks -------------------------------------------------------------------------

    def _reset(self, request: HttpRequest, body: Any, conn: HttpConnection) -> _Pending:
        self._stats = MockStats()
        self._last = None
        conn.respond(200, b'{"status":"ok"}')
        return None

    def _last_request(self, request: HttpRequest, body: Any, conn: HttpConnection) -> _Pending:
        if self._last is None:
            conn.respond(404, error_body(404, "No request has been recorded yet."))
            return None
        path, headers, last_body = self._last
        conn.respond(200, _dumps({"path": path, "headers": headers, "body": last_body}))
        return None


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def _hang() -> None:
    """Never answer; the task ends when the client gives up and the connection drops."""
    await asyncio.get_running_loop().create_future()


async def _respond_later(conn: HttpConnection, delay: float, payload: bytes) -> None:
    await asyncio.sleep(delay)
    conn.respond(200, payload)


async def _serve(config: MockConfig, host: str, port: int) -> None:
    provider = MockProvider(config)
    bound = await provider.start(host, port)
    print(f"switchboard mock provider listening on http://{host}:{bound}/v1", file=sys.stderr)
    stop = asyncio.Event()
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError):
        pass
    try:
        await stop.wait()
    finally:
        await provider.stop()


def run_mock_provider(config: MockConfig, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM; uses uvloop when it is installed."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        pass
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(_serve(config, host, port))
    except KeyboardInterrupt:
        pass
