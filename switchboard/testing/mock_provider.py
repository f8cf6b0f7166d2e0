"""The mock OpenAI-compatible provider Switchboard ships, for its tests and for users' load tests.

It answers chat completions (plain and streamed), the Responses API (mock_responses.py),
embeddings and the model list in OpenAI's wire format, with configurable latency and injected
faults (errors, hangs, cut streams), and counts what it saw so that tests can assert on what the
gateway sent upstream. mock_server.py runs it as a process.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, replace
from typing import Any

from switchboard.testing import mock_responses as responses
from switchboard.testing import mock_wire as wire
from switchboard.testing.mock_http import HttpConnection, HttpRequest, HttpServer

PREFIX_MEMORY = 100_000  # prefix hashes kept before the simulated prefix cache is emptied
_STREAM_TYPE = "text/event-stream; charset=utf-8"
_STREAM_HEADERS = (("cache-control", "no-cache"),)
_Pending = Coroutine[Any, Any, None] | None
_Route = Callable[[HttpRequest, dict[str, Any], HttpConnection], _Pending]


@dataclass(frozen=True)
class MockConfig:
    """How the mock behaves by default; x-mock-* request headers override it per request."""

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
    responses_requests: int = 0
    stream_requests: int = 0
    embedding_requests: int = 0
    errors_injected: int = 0
    hangs: int = 0
    cuts: int = 0
    completed_streams: int = 0
    client_disconnects: int = 0  # streams whose client left before the stream finished
    # a prefix cache's view (vLLM/TGI): chats whose leading messages this mock had seen before
    prefix_hits: int = 0
    prefix_cached_messages: int = 0  # summed over chats: the longest leading run seen before


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

    @property
    def faulty(self) -> bool:
        return self.hang or self.error_status is not None


def _header_number(headers: dict[str, str], name: str, cast: Callable[[str], Any]) -> Any:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return cast(value)
    except ValueError:
        raise wire.BadInput(f"invalid {name} header: {value!r}", name) from None


def _model(body: dict[str, Any], default: str) -> str:
    model = body.get("model")
    return model if isinstance(model, str) else default


class MockProvider:
    """An OpenAI-compatible upstream with tunable latency and faults; one instance, one port."""

    def __init__(self, config: MockConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._stats = MockStats()
        self._last: tuple[str, dict[str, str], Any] | None = None
        self._id_prefix = os.urandom(4).hex()
        self._next_id = 0
        self._prefixes: set[bytes] = set()  # hashes of every leading run of messages seen
        self._server = HttpServer(self._handle, wire.error_body)
        self._routes: dict[tuple[str, str], _Route] = {
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/responses"): self._responses,
            ("POST", "/v1/embeddings"): self._embeddings,
            ("GET", "/v1/models"): lambda r, b, c: c.respond(200, wire.model_list(config.model)),
            ("GET", "/health"): lambda r, b, c: c.respond(200, b'{"status":"ok"}'),
            ("GET", "/mock/stats"): lambda r, b, c: c.respond(200, wire.dumps(asdict(self.stats))),
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

    def _handle(self, request: HttpRequest, conn: HttpConnection) -> _Pending:
        route = self._routes.get((request.method, request.path))
        if route is None:
            message = f"Invalid URL ({request.method} {request.path})"
            conn.respond(404, wire.error_body(404, message))
            return None
        body: Any = None
        parsed = True
        if request.body:
            try:
                body = wire.loads(request.body)
            except ValueError:
                parsed = False
        if not request.path.startswith("/mock/"):
            self._stats.requests += 1
            recorded = body if parsed else request.body.decode("utf-8", "replace")
            self._last = (request.path, request.headers, recorded)
        try:
            if not parsed or not isinstance(body, dict | None):
                raise wire.BadInput("We could not parse the JSON body of your request.")
            return route(request, body or {}, conn)
        except wire.BadInput as exc:
            conn.respond(400, wire.error_body(400, exc.message, exc.param))
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
        if error is not None and not 400 <= error <= 599:
            raise wire.BadInput(
                "x-mock-error-status must be from 400 to 599", "x-mock-error-status"
            )
        if error is None and cfg.error_rate > 0 and rng.random() < cfg.error_rate:
            error = cfg.error_status
        hang = headers.get("x-mock-hang", "").lower() in ("1", "true", "yes")
        hang = hang or (cfg.hang_rate > 0 and rng.random() < cfg.hang_rate)
        cut = _header_number(headers, "x-mock-cut-after", int)
        if cut is None and stream and cfg.cut_stream_rate > 0:
            cut = tokens // 2 if rng.random() < cfg.cut_stream_rate else None
        ttft_s = (cfg.ttft_ms if ttft is None else ttft) / 1000
        itl_s = (cfg.itl_ms if itl is None else itl) / 1000
        return _Plan(ttft_s, itl_s, tokens, error, hang, truncated, cut)

    def _fault(self, plan: _Plan, conn: HttpConnection) -> _Pending:
        if plan.hang:
            self._stats.hangs += 1
            return _hang()
        status = plan.error_status or 500
        self._stats.errors_injected += 1
        headers = (("retry-after", "1"),) if status == 429 else ()
        message = f"Injected error {status} from the mock provider."
        conn.respond(status, wire.error_body(status, message), headers=headers)
        return None

    def _new_id(self, prefix: str) -> str:
        self._next_id += 1
        return f"{prefix}-{self._id_prefix}{self._next_id:016x}"

    def _chat(self, request: HttpRequest, body: dict[str, Any], conn: HttpConnection) -> _Pending:
        self._stats.chat_requests += 1
        stream = body.get("stream") is True
        self._stats.stream_requests += stream
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise wire.BadInput("'messages' is a required property", "messages")
        self._count_prefix(messages)
        cap = body.get("max_completion_tokens", body.get("max_tokens"))
        plan = self._plan(request.headers, cap if isinstance(cap, int) else None, stream)
        if plan.faulty:
            return self._fault(plan, conn)
        n = body.get("n", 1)
        if type(n) is not int or not 1 <= n <= 128:
            raise wire.BadInput("'n' must be an integer from 1 to 128", "n")
        finish = "length" if plan.truncated else "stop"
        base = {
            "id": self._new_id("chatcmpl"),
            "created": int(time.time()),
            "model": _model(body, self._config.model),
        }
        use = wire.usage(wire.prompt_tokens(messages), plan.tokens * n)
        if stream:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            return self._stream(conn, plan, base, finish, use if include_usage else None, n)
        payload = wire.chat_completion(base, " ".join(wire.words(plan.tokens)), finish, use, n)
        return _answer(conn, plan.ttft_s, payload)

    async def _stream(
        self,
        conn: HttpConnection,
        plan: _Plan,
        base: dict[str, Any],
        finish: str,
        use: dict[str, int] | None,
        n: int = 1,
    ) -> None:
        try:
            if plan.ttft_s > 0:
                await asyncio.sleep(plan.ttft_s)
            role = wire.chunk_events(base, {"role": "assistant", "content": ""}, n=n)
            conn.start_chunked(200, _STREAM_TYPE, _STREAM_HEADERS, first=role)
            for i, word in enumerate(wire.words(plan.tokens)):
                if plan.cut_after is not None and i >= plan.cut_after:
                    break
                if i and plan.itl_s > 0:
                    await asyncio.sleep(plan.itl_s)
                delta = {"content": f" {word}" if i else word}
                conn.write_chunk(wire.chunk_events(base, delta, n=n))
                await conn.drain()
            if plan.cut_after is not None:
                self._stats.cuts += 1
                conn.abort()
                return
            tail = wire.chunk_events(base, {}, finish, n)
            if use is not None:
                tail += wire.usage_event(base, use)
            conn.end_chunked(tail + wire.DONE_EVENT)
            self._stats.completed_streams += 1
        except asyncio.CancelledError:
            if conn.closed_by_peer:
                self._stats.client_disconnects += 1
            raise

    def _responses(
        self, request: HttpRequest, body: dict[str, Any], conn: HttpConnection
    ) -> _Pending:
        self._stats.responses_requests += 1
        stream = body.get("stream") is True
        self._stats.stream_requests += stream
        prompt = responses.prompt_tokens(body)
        cap = body.get("max_output_tokens")
        plan = self._plan(request.headers, cap if isinstance(cap, int) else None, stream)
        if plan.faulty:
            return self._fault(plan, conn)
        model = _model(body, self._config.model)
        base = responses.base_response(self._new_id("resp"), body, model)
        use, item_id = responses.usage(prompt, plan.tokens), self._new_id("msg")
        if stream:
            return responses.stream(conn, plan, base, item_id, use, self._stats)
        item = responses.message(item_id, " ".join(wire.words(plan.tokens)))
        final = responses.finished(base, item, plan.truncated, use)
        return _answer(conn, plan.ttft_s, wire.dumps(final))

    def _embeddings(
        self, request: HttpRequest, body: dict[str, Any], conn: HttpConnection
    ) -> _Pending:
        self._stats.embedding_requests += 1
        items = wire.embedding_inputs(body.get("input"))
        dim = body.get("dimensions", 8)
        if not isinstance(dim, int) or not 1 <= dim <= 4096:
            raise wire.BadInput("'dimensions' must be an integer from 1 to 4096", "dimensions")
        plan = self._plan(request.headers, None, stream=False)
        if plan.faulty:
            return self._fault(plan, conn)
        as_base64 = body.get("encoding_format") == "base64"
        payload = wire.embedding_list(items, dim, as_base64, _model(body, self._config.model))
        return _answer(conn, plan.ttft_s, payload)

    def _count_prefix(self, messages: list[Any]) -> None:
        """Like a server's prefix cache: the longest leading run of messages seen before."""
        if len(self._prefixes) > PREFIX_MEMORY:
            self._prefixes.clear()
        digest, cached = b"", 0
        for k, message in enumerate(messages, 1):
            digest = hashlib.blake2b(digest + wire.dumps(message), digest_size=16).digest()
            if digest in self._prefixes:
                cached = k
            else:
                self._prefixes.add(digest)
        self._stats.prefix_hits += cached > 0
        self._stats.prefix_cached_messages += cached

    def _reset(self, request: HttpRequest, body: Any, conn: HttpConnection) -> _Pending:
        self._stats = MockStats()
        self._prefixes.clear()
        self._last = None
        conn.respond(200, b'{"status":"ok"}')
        return None

    def _last_request(self, request: HttpRequest, body: Any, conn: HttpConnection) -> _Pending:
        if self._last is None:
            conn.respond(404, wire.error_body(404, "No request has been recorded yet."))
            return None
        path, headers, last_body = self._last
        conn.respond(200, wire.dumps({"path": path, "headers": headers, "body": last_body}))
        return None


def _answer(conn: HttpConnection, delay: float, payload: bytes) -> _Pending:
    """Send a 200 JSON answer now, or return the coroutine that sends it after `delay`."""
    if delay <= 0:
        conn.respond(200, payload)
        return None
    return _respond_later(conn, delay, payload)


async def _respond_later(conn: HttpConnection, delay: float, payload: bytes) -> None:
    await asyncio.sleep(delay)
    conn.respond(200, payload)


async def _hang() -> None:
    """Never answer; the task ends when the client gives up and the connection drops."""
    await asyncio.get_running_loop().create_future()
