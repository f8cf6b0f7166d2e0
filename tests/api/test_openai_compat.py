"""The official `openai` SDK, sync and async, against the gateway in front of the mock."""

from __future__ import annotations

import openai
import pytest

from switchboard.testing.harness import GatewayServer, MockUpstream


def client(gw: GatewayServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key="unused", max_retries=0, timeout=10)


def test_chat_completion_plain(gateway: GatewayServer, mock_upstream: MockUpstream) -> None:
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="mock", messages=[{"role": "user", "content": "Say hello"}], temperature=0.2
    )
    resp = raw.parse()
    assert resp.object == "chat.completion"
    assert resp.model == "mock"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.content and len(resp.choices[0].message.content.split()) == 8
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None and resp.usage.completion_tokens == 8
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + 8
    assert raw.headers["x-switchboard-deployment"] == "mock-a"
    assert float(raw.headers["x-switchboard-overhead-ms"]) >= 0
    assert len(raw.headers["x-request-id"]) >= 16
    sent = mock_upstream.last_request()
    assert sent["body"]["model"] == "mock-upstream"  # the deployment's upstream name
    assert sent["body"]["temperature"] == 0.2
    assert sent["headers"]["authorization"] == "Bearer sk-test-secret-0123456789"


def test_passthrough_params_and_max_tokens(
    gateway: GatewayServer, mock_upstream: MockUpstream
) -> None:
    resp = client(gateway).chat.completions.create(
        model="mock",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        max_tokens=3,
        seed=42,
        response_format={"type": "json_object"},
    )
    assert resp.choices[0].finish_reason == "length"
    assert resp.usage is not None and resp.usage.completion_tokens == 3
    body = mock_upstream.last_request()["body"]
    assert body["seed"] == 42 and body["response_format"] == {"type": "json_object"}
    assert body["max_tokens"] == 3
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_request_id_is_echoed(gateway: GatewayServer) -> None:
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="mock",
        messages=[{"role": "user", "content": "x"}],
        extra_headers={"X-Request-ID": "my-trace-123"},
    )
    assert raw.headers["x-request-id"] == "my-trace-123"


def test_stream_with_usage(gateway: GatewayServer) -> None:
    stream = client(gateway).chat.completions.create(
        model="mock",
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) == 8
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 8
    assert all(c.object == "chat.completion.chunk" for c in chunks)


def test_stream_without_usage_sends_no_usage_chunk(gateway: GatewayServer) -> None:
    chunks = list(
        client(gateway).chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


async def test_async_client_stream_and_plain(gateway: GatewayServer) -> None:
    aclient = openai.AsyncOpenAI(base_url=gateway.url, api_key="x", max_retries=0)
    async with aclient:
        resp = await aclient.chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "hi"}]
        )
        assert resp.choices[0].message.content
        stream = await aclient.chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        assert "".join(parts) == resp.choices[0].message.content


def test_models_list_and_retrieve(gateway: GatewayServer) -> None:
    c = client(gateway)
    ids = [m.id for m in c.models.list()]
    assert "mock" in ids and "mock-429" in ids
    assert c.models.retrieve("mock").id == "mock"
    with pytest.raises(openai.NotFoundError):
        c.models.retrieve("nope")


def test_embeddings_float_and_base64(gateway: GatewayServer) -> None:
    c = client(gateway)
    # The SDK asks for base64 by default and decodes it.
    resp = c.embeddings.create(model="mock", input=["alpha", "beta"])
    assert [d.index for d in resp.data] == [0, 1]
    assert len(resp.data[0].embedding) == 8
    floats = c.embeddings.create(model="mock", input="alpha", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(resp.data[0].embedding, rel=1e-6)
    assert resp.usage.prompt_tokens > 0
