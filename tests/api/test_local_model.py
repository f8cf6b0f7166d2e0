"""The default, no-config gateway answers with the embedded local model (real generation)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway


@pytest.fixture(scope="module")
def local_gateway(background: BackgroundLoop) -> Iterator[GatewayServer]:
    with run_gateway(background, Settings(local_default_max_tokens=24)) as server:
        yield server


def test_default_catalogue_is_the_local_model(local_gateway: GatewayServer) -> None:
    c = openai.OpenAI(base_url=local_gateway.url, api_key="none", max_retries=0, timeout=120)
    assert [m.id for m in c.models.list()] == ["local"]
    ready = httpx.get(local_gateway.base + "/ready", timeout=10)
    assert ready.status_code in (200, 503)


def test_local_model_answers(local_gateway: GatewayServer) -> None:
    resp = httpx.post(
        local_gateway.url + "/chat/completions",
        json={
            "model": "local",
            "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "temperature": 0,
            "max_tokens": 16,
        },
        timeout=120,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "Paris" in body["choices"][0]["message"]["content"]
    assert body["usage"]["prompt_tokens"] > 5 and 0 < body["usage"]["completion_tokens"] <= 16
    assert httpx.get(local_gateway.base + "/ready").status_code == 200


def test_local_model_streams_with_the_sdk(local_gateway: GatewayServer) -> None:
    c = openai.OpenAI(base_url=local_gateway.url, api_key="none", max_retries=0, timeout=120)
    stream = c.chat.completions.create(
        model="local",
        messages=[{"role": "user", "content": "Say hello"}],
        max_tokens=8,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [
        ch.choices[0].delta.content for ch in chunks if ch.choices and ch.choices[0].delta.content
    ]
    assert len(pieces) >= 2  # real token-by-token streaming
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens <= 8


def test_local_model_serves_embeddings_to_the_sdk(local_gateway: GatewayServer) -> None:
    """MiniLM behind /v1/embeddings; the SDK asks for base64 by default and decodes it."""
    c = openai.OpenAI(base_url=local_gateway.url, api_key="none", max_retries=0, timeout=120)
    texts = ["How do I reset my password?", "I forgot my password", "Best pizza in Rome"]
    reply = c.embeddings.create(model="local", input=texts)
    vectors = [item.embedding for item in reply.data]
    assert [item.index for item in reply.data] == [0, 1, 2] and len(vectors[0]) == 384
    cos = [sum(a * b for a, b in zip(vectors[0], v, strict=True)) for v in vectors]
    assert cos[0] == pytest.approx(1.0, abs=1e-3) and cos[1] > 0.5 > cos[2]
    assert reply.usage.prompt_tokens > 10 and reply.model == "local"
    floats = c.embeddings.create(
        model="local", input="I forgot my password", encoding_format="float"
    )
    assert floats.data[0].embedding == pytest.approx(vectors[1], abs=1e-4)


def test_local_embeddings_refuse_what_they_cannot_do(local_gateway: GatewayServer) -> None:
    url = local_gateway.url + "/embeddings"
    tokens = httpx.post(url, json={"model": "local", "input": [[101, 102]]}, timeout=60)
    assert tokens.status_code == 400 and tokens.json()["error"]["param"] == "input"
    sized = httpx.post(url, json={"model": "local", "input": "x", "dimensions": 8}, timeout=60)
    assert sized.status_code == 400 and sized.json()["error"]["param"] == "dimensions"


@pytest.mark.parametrize("stream", [False, True])
def test_local_model_serves_n_choices(local_gateway: GatewayServer, stream: bool) -> None:
    """`n` on the local model: n generations (seeded samples differ), merged into one reply."""
    c = openai.OpenAI(base_url=local_gateway.url, api_key="none", max_retries=0, timeout=120)
    kw = {"model": "local", "messages": [{"role": "user", "content": "Name a colour."}]}
    args = {**kw, "n": 2, "max_tokens": 6, "temperature": 1.0, "seed": 3}
    texts: dict[int, str] = {}
    if stream:
        options = {"include_usage": True}
        chunks = list(c.chat.completions.create(**args, stream=True, stream_options=options))
        for chunk in chunks:
            for choice in chunk.choices:
                texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
        usage = chunks[-1].usage
    else:
        resp = c.chat.completions.create(**args)
        texts = {choice.index: choice.message.content or "" for choice in resp.choices}
        usage = resp.usage
    one = c.chat.completions.create(**kw, max_tokens=6, temperature=1.0, seed=3)
    assert sorted(texts) == [0, 1] and all(texts.values())
    assert texts[0] == one.choices[0].message.content  # choice i is seeded with seed + i
    assert usage is not None and one.usage is not None
    assert usage.prompt_tokens == 2 * one.usage.prompt_tokens
    assert 2 <= usage.completion_tokens <= 12
