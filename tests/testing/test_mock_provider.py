"""The mock provider speaks OpenAI's wire format to real clients and injects its faults."""

from __future__ import annotations

import asyncio
import base64
import math
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import openai
import pytest
import pytest_asyncio
from openai.types.chat import ChatCompletionMessageParam

from switchboard.testing.mock_provider import MockConfig, MockProvider, MockStats

pytestmark = pytest.mark.asyncio

StartMock = Callable[[MockConfig], Awaitable[str]]
HI: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Hello there, mock!"}
]  # 18 characters -> 18 // 4 + 1 = 5


@pytest_asyncio.fixture
async def start_mock() -> AsyncIterator[StartMock]:
    """Start mocks with any config on loopback; returns the base URL; stops them afterwards."""
    providers: list[MockProvider] = []

    async def start(config: MockConfig) -> str:
        provider = MockProvider(config)
        port = await provider.start("127.0.0.1", 0)
        providers.append(provider)
        return f"http://127.0.0.1:{port}"

    yield start
    for provider in providers:
        await provider.stop()


@pytest_asyncio.fixture
async def base(start_mock: StartMock) -> str:
    return await start_mock(MockConfig())


@pytest_asyncio.fixture
async def http(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        yield client


def sdk(base: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)


async def stats(http: httpx.AsyncClient) -> MockStats:
    return MockStats(**(await http.get("/mock/stats")).json())


async def test_chat_completion_through_the_openai_client(
    base: str, http: httpx.AsyncClient
) -> None:
    reply = await sdk(base).chat.completions.create(model="gpt-test", messages=HI)
    assert reply.id.startswith("chatcmpl-")
    assert reply.object == "chat.completion"
    assert reply.model == "gpt-test"
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert len((choice.message.content or "").split(" ")) == 16
    assert choice.finish_reason == "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (5, 16)
    assert reply.usage.total_tokens == 21
    raw = (await http.post("/v1/chat/completions", json={"messages": HI})).json()
    assert set(raw) == {"id", "object", "created", "model", "choices", "usage"}
    assert raw["choices"][0]["logprobs"] is None and raw["model"] == "mock-model"


async def test_stream_matches_plain_answer_and_reports_usage(
    base: str, http: httpx.AsyncClient
) -> None:
    client = sdk(base)
    plain = await client.chat.completions.create(model="m", messages=HI)
    stream = await client.chat.completions.create(
        model="m",
        messages=HI,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 16
    counted = await stats(http)
    assert (counted.chat_requests, counted.stream_requests, counted.completed_streams) == (2, 1, 1)


async def test_stream_without_include_usage_has_no_usage_chunk(http: httpx.AsyncClient) -> None:
    body = {"messages": HI, "stream": True}
    async with http.stream("POST", "/v1/chat/completions", json=body) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["transfer-encoding"] == "chunked"
        events = [line async for line in resp.aiter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert len(events) == 1 + 16 + 1 + 1  # role, tokens, finish, [DONE]
    assert all('"usage"' not in event for event in events)


async def test_max_tokens_truncates_with_finish_reason_length(
    base: str, http: httpx.AsyncClient
) -> None:
    reply = await http.post("/v1/chat/completions", json={"messages": HI, "max_tokens": 3})
    choice = reply.json()["choices"][0]
    assert choice["message"]["content"] == "lorem ipsum dolor"
    assert choice["finish_reason"] == "length"
    assert reply.json()["usage"]["completion_tokens"] == 3
    stream = await sdk(base).chat.completions.create(
        model="m",
        messages=HI,
        stream=True,
        max_completion_tokens=2,
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "lorem ipsum"
    assert chunks[-1].choices[0].finish_reason == "length"


async def test_prompt_tokens_count_text_parts(http: httpx.AsyncClient) -> None:
    parts = [{"type": "text", "text": "a" * 40}, {"type": "image_url", "image_url": {"url": "x"}}]
    messages = [{"role": "system", "content": "b" * 20}, {"role": "user", "content": parts}]
    reply = await http.post("/v1/chat/completions", json={"messages": messages})
    assert reply.json()["usage"]["prompt_tokens"] == 60 // 4 + 1


async def test_embeddings_are_deterministic_unit_vectors(
    base: str, http: httpx.AsyncClient
) -> None:
    # The SDK asks for base64 by default and decodes it: both encodings must agree.
    reply = await sdk(base).embeddings.create(model="emb", input=["alpha", "beta"])
    vectors = [item.embedding for item in reply.data]
    assert [item.index for item in reply.data] == [0, 1]
    assert all(len(v) == 8 for v in vectors) and vectors[0] != vectors[1]
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-5) for v in vectors)
    floats = (await http.post("/v1/embeddings", json={"input": ["alpha", "beta"]})).json()
    assert [item["embedding"] for item in floats["data"]] == vectors
    assert floats["object"] == "list" and floats["data"][0]["object"] == "embedding"
    single = await http.post("/v1/embeddings", json={"input": "alpha", "encoding_format": "base64"})
    packed = base64.b64decode(single.json()["data"][0]["embedding"])
    assert list(struct.unpack("<8f", packed)) == vectors[0]
    tokens = (await http.post("/v1/embeddings", json={"input": [[1, 2, 3]]})).json()
    assert tokens["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert (await stats(http)).embedding_requests == 4


async def test_models_list(base: str) -> None:
    models = await sdk(base).models.list()
    assert [(m.id, m.object, m.owned_by) for m in models.data] == [
        ("mock-model", "model", "switchboard-mock")
    ]


async def test_forced_errors_use_the_openai_envelope(http: httpx.AsyncClient) -> None:
    limited = await http.post(
        "/v1/chat/completions", json={"messages": HI}, headers={"x-mock-error-status": "429"}
    )
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    error = limited.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "requests",
        "rate_limit_exceeded",
        None,
    )
    broken = await http.post(
        "/v1/embeddings", json={"input": "x"}, headers={"x-mock-error-status": "503"}
    )
    assert broken.status_code == 503 and "retry-after" not in broken.headers
    assert broken.json()["error"]["type"] == "server_error"
    assert (await stats(http)).errors_injected == 2


async def test_error_rate_is_seeded_and_uses_error_status(start_mock: StartMock) -> None:
    async def outcomes(config: MockConfig) -> list[int]:
        async with httpx.AsyncClient(base_url=await start_mock(config)) as client:
            return [
                (await client.post("/v1/chat/completions", json={"messages": HI})).status_code
                for _ in range(30)
            ]

    config = MockConfig(error_rate=0.5, error_status=502, seed=11)
    first, second = await outcomes(config), await outcomes(config)
    assert first == second
    assert set(first) == {200, 502}
    assert set(await outcomes(MockConfig(error_rate=1.0, error_status=503))) == {503}


async def test_hang_never_answers_until_the_client_gives_up(http: httpx.AsyncClient) -> None:
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await http.post(
            "/v1/chat/completions", json={"messages": HI}, headers={"x-mock-hang": "1"}, timeout=0.3
        )
    assert time.monotonic() - started >= 0.3
    assert (await stats(http)).hangs == 1


async def test_cut_stream_closes_without_done(http: httpx.AsyncClient) -> None:
    body = {"messages": HI, "stream": True}
    events: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        headers = {"x-mock-cut-after": "3"}
        async with http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    events.append(line)
    assert len(events) == 1 + 3  # the role chunk and three tokens, then nothing
    counted = await stats(http)
    assert (counted.cuts, counted.completed_streams, counted.client_disconnects) == (1, 0, 0)


async def test_cut_stream_rate_breaks_the_sdk_stream(start_mock: StartMock) -> None:
    base = await start_mock(MockConfig(cut_stream_rate=1.0, tokens=10))
    stream = await sdk(base).chat.completions.create(model="m", messages=HI, stream=True)
    seen: list[str] = []
    with pytest.raises((httpx.RemoteProtocolError, openai.APIError)):
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    assert "".join(seen) == "lorem ipsum dolor sit amet"  # cut after half of the ten tokens


async def test_last_request_records_what_was_sent(http: httpx.AsyncClient) -> None:
    body = {"model": "upstream-name", "messages": HI, "temperature": 0.2}
    await http.post(
        "/v1/chat/completions?trace=1", json=body, headers={"Authorization": "Bearer sk-up"}
    )
    await http.get("/mock/stats")  # the mock's own endpoints are not recorded
    last = (await http.get("/mock/last_request")).json()
    assert last["path"] == "/v1/chat/completions"
    assert last["headers"]["authorization"] == "Bearer sk-up"
    assert last["body"] == body


async def test_latency_overrides_are_honoured(http: httpx.AsyncClient) -> None:
    started = time.monotonic()
    await http.post(
        "/v1/chat/completions", json={"messages": HI}, headers={"x-mock-ttft-ms": "120"}
    )
    assert time.monotonic() - started >= 0.12
    headers = {"x-mock-ttft-ms": "0", "x-mock-itl-ms": "40", "x-mock-tokens": "4"}
    started = time.monotonic()
    body = {"messages": HI, "stream": True}
    async with http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as resp:
        events = [line async for line in resp.aiter_lines() if line.startswith("data: ")]
    assert time.monotonic() - started >= 0.12  # three gaps of 40 ms between four tokens
    assert len(events) == 1 + 4 + 1 + 1


async def test_bad_requests_are_rejected(http: httpx.AsyncClient) -> None:
    invalid = await http.post("/v1/chat/completions", content=b"{not json")
    assert invalid.status_code == 400
    assert invalid.json()["error"]["type"] == "invalid_request_error"
    missing = await http.post("/v1/chat/completions", json={"model": "m"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "messages"
    header = await http.post(
        "/v1/chat/completions", json={"messages": HI}, headers={"x-mock-tokens": "many"}
    )
    assert header.status_code == 400
    unknown = await http.get("/v1/nothing")
    assert unknown.status_code == 404 and "error" in unknown.json()
    assert (await http.get("/v1/chat/completions")).status_code == 404


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    body = await reader.readexactly(int(headers["content-length"]))
    return int(head[0].split(" ")[1]), headers, body


def raw_post(path: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nhost: t\r\ncontent-length: {len(body)}\r\n{extra}\r\n".encode()
        + body
    )


async def test_keep_alive_and_pipelining_on_one_connection(base: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chat = b'{"messages": [], "max_tokens": 1}'
    # Three requests in one write; the delayed one must not let the next overtake it.
    writer.write(
        b"GET /health HTTP/1.1\r\nhost: t\r\n\r\n"
        + raw_post("/v1/chat/completions", chat, "x-mock-ttft-ms: 50\r\n")
        + b"GET /v1/models HTTP/1.1\r\nhost: t\r\n\r\n"
    )
    replies = [await read_response(reader) for _ in range(3)]
    assert [status for status, _, _ in replies] == [200, 200, 200]
    assert b'"status":"ok"' in replies[0][2]
    assert b'"chat.completion"' in replies[1][2]
    assert b'"owned_by":"switchboard-mock"' in replies[2][2]
    writer.write(raw_post("/v1/embeddings", b'{"input": "x"}'))
    status, headers, _ = await read_response(reader)
    assert status == 200 and "connection" not in headers
    writer.write(b"GET /health HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
    status, headers, _ = await read_response(reader)
    assert headers["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), 2) == b""  # the server closed it
    writer.close()


async def test_post_without_content_length_gets_411(base: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\n\r\n")
    status, _, body = await read_response(reader)
    assert status == 411 and b'"error"' in body
    writer.close()


async def test_client_disconnect_mid_stream_is_counted(http: httpx.AsyncClient) -> None:
    headers = {"x-mock-itl-ms": "50", "x-mock-tokens": "100"}
    body = {"messages": HI, "stream": True}
    async with httpx.AsyncClient(base_url=str(http.base_url)) as other:
        async with other.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
            lines = r.aiter_lines()
            assert (await anext(lines)).startswith("data: ")
    # Closing the unfinished response closed the connection; the mock should notice quickly.
    for _ in range(100):
        if (await stats(http)).client_disconnects:
            break
        await asyncio.sleep(0.02)
    counted = await stats(http)
    assert (counted.client_disconnects, counted.completed_streams) == (1, 0)


async def test_reset_clears_counters(http: httpx.AsyncClient) -> None:
    await http.post("/v1/chat/completions", json={"messages": HI})
    assert (await stats(http)).requests == 1
    assert (await http.post("/mock/reset")).status_code == 200
    assert await stats(http) == MockStats()
    assert (await http.get("/mock/last_request")).status_code == 404


async def test_stop_ends_open_streams_and_hangs(start_mock: StartMock) -> None:
    provider = MockProvider(MockConfig(itl_ms=50, tokens=100))
    port = await provider.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        body: dict[str, Any] = {"messages": HI, "stream": True}
        hang = asyncio.create_task(
            client.post("/v1/embeddings", json={"input": "x"}, headers={"x-mock-hang": "1"})
        )
        async with client.stream("POST", "/v1/chat/completions", json=body) as resp:
            await anext(resp.aiter_lines())
            started = time.monotonic()
            await provider.stop()
            assert time.monotonic() - started < 1
        with pytest.raises(httpx.HTTPError):
            await hang
    assert provider.stats.client_disconnects == 0  # our own shutdown is not a client leaving
    assert provider.stats.hangs == 1
