"""Legacy `POST /v1/completions` (translated to chat) and the unprefixed aliases, through the
official `openai` SDK against the gateway in front of the mock."""

from __future__ import annotations

import httpx
import openai
import pytest

from switchboard.testing.harness import GatewayServer, MockUpstream


def client(gw: GatewayServer, base: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=base or gw.url, api_key="unused", max_retries=0, timeout=10)


def test_completion_plain_is_translated_to_chat(
    gateway: GatewayServer, mock_upstream: MockUpstream
) -> None:
    raw = client(gateway).completions.with_raw_response.create(
        model="mock", prompt="Say hello", max_tokens=5, temperature=0.3, seed=3
    )
    resp = raw.parse()
    assert resp.object == "text_completion" and resp.model == "mock"
    assert len(resp.choices) == 1 and len(resp.choices[0].text.split()) == 5
    assert resp.choices[0].finish_reason == "length" and resp.choices[0].index == 0
    assert resp.usage is not None and resp.usage.completion_tokens == 5
    assert raw.headers["x-switchboard-deployment"] == "mock-a"
    sent = mock_upstream.last_request()
    assert sent["path"].endswith("/chat/completions")
    assert sent["body"]["messages"] == [{"role": "user", "content": "Say hello"}]
    assert sent["body"]["max_tokens"] == 5 and sent["body"]["seed"] == 3
    assert sent["body"]["temperature"] == 0.3
    assert "prompt" not in sent["body"] and "echo" not in sent["body"]


def test_completion_defaults_to_openais_16_tokens(
    gateway: GatewayServer, mock_upstream: MockUpstream
) -> None:
    client(gateway).completions.create(model="mock", prompt=["one prompt"])
    sent = mock_upstream.last_request()["body"]
    assert sent["max_tokens"] == 16
    assert sent["messages"] == [{"role": "user", "content": "one prompt"}]


def test_completion_stream_with_usage(gateway: GatewayServer) -> None:
    plain = client(gateway).completions.create(model="mock", prompt="hi", max_tokens=6)
    chunks = list(
        client(gateway).completions.create(
            model="mock",
            prompt="hi",
            max_tokens=6,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert all(c.object == "text_completion" for c in chunks)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == plain.choices[0].text
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 6


def test_completion_echo_plain_and_streamed(gateway: GatewayServer) -> None:
    plain = client(gateway).completions.create(model="mock", prompt="Echo me", echo=True)
    assert plain.choices[0].text.startswith("Echo me")
    chunks = list(
        client(gateway).completions.create(model="mock", prompt="Echo me", echo=True, stream=True)
    )
    assert chunks[0].choices[0].text == "Echo me"
    assert "".join(c.choices[0].text for c in chunks) == plain.choices[0].text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("suffix", "tail"),
        ("logprobs", 2),
        ("best_of", 3),
        ("prompt", ["a", "b"]),
        ("prompt", [1, 2]),
    ],
)
def test_completion_refuses_what_is_not_translated(
    gateway: GatewayServer, field: str, value: object
) -> None:
    body = {"model": "mock", "prompt": "x", field: value}
    resp = httpx.post(gateway.url + "/completions", json=body, timeout=10)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == field


def test_completion_unknown_model_is_404(gateway: GatewayServer) -> None:
    with pytest.raises(openai.NotFoundError):
        client(gateway).completions.create(model="nope", prompt="x")


def test_unprefixed_aliases(gateway: GatewayServer) -> None:
    bare = client(gateway, gateway.base)
    chat = bare.chat.completions.create(model="mock", messages=[{"role": "user", "content": "hi"}])
    assert chat.choices[0].message.content
    assert bare.completions.create(model="mock", prompt="hi").choices[0].text
    assert len(bare.embeddings.create(model="mock", input="hi").data[0].embedding) == 8
    assert "mock" in [m.id for m in bare.models.list()]
    assert bare.models.retrieve("mock").id == "mock"
