"""`n` > 1: passed through to upstreams that serve it (OpenAI's wire), served by n parallel
calls merged into one reply elsewhere; with the real `openai` client, JSON and streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import (
    BackgroundLoop,
    GatewayServer,
    MockUpstream,
    run_gateway,
    wait_for,
)

MOCK_TOKENS = 8  # the session mock's completion tokens per choice


@pytest.fixture(scope="module")
def gw(background: BackgroundLoop, mock_upstream: MockUpstream) -> Iterator[GatewayServer]:
    def model(name: str, provider: str, **kw: Any) -> dict[str, Any]:
        dep = {"provider": provider, "model": "m", "api_base": mock_upstream.url, **kw}
        return {"name": name, "deployments": [{**dep, "name": f"{name}-dep"}]}

    models = [
        model("native", "openai"),
        model("single", "ollama"),  # OpenAI's wire, one choice a call: served by n calls
        model("quota", "openai", tpm=100),
        model("slow", "ollama", headers={"x-mock-itl-ms": "50", "x-mock-tokens": "200"}),
    ]
    catalogue = Catalogue.model_validate({"models": models})
    with run_gateway(background, Settings(catalogue=catalogue)) as server:
        yield server


def client(gw: GatewayServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key="x", max_retries=0, timeout=10)


ASK = [{"role": "user", "content": "Say something, in several ways."}]


@pytest.mark.parametrize("model", ["native", "single"])
def test_n_choices_json(gw: GatewayServer, mock_upstream: MockUpstream, model: str) -> None:
    before = mock_upstream.stats()["chat_requests"]
    one = client(gw).chat.completions.create(model=model, messages=ASK)
    resp = client(gw).chat.completions.create(model=model, messages=ASK, n=3)
    calls = mock_upstream.stats()["chat_requests"] - before - 1
    assert [c.index for c in resp.choices] == [0, 1, 2]
    assert all(c.message.content == one.choices[0].message.content for c in resp.choices)
    assert all(c.finish_reason == "stop" for c in resp.choices)
    assert resp.model == model and resp.usage is not None and one.usage is not None
    assert resp.usage.completion_tokens == 3 * MOCK_TOKENS
    if model == "native":  # one upstream call that asked for 3; the prompt counted once
        assert calls == 1 and mock_upstream.last_request()["body"]["n"] == 3
        assert resp.usage.prompt_tokens == one.usage.prompt_tokens
    else:  # three one-choice calls, usage summed
        assert calls == 3 and "n" not in mock_upstream.last_request()["body"]
        assert resp.usage.prompt_tokens == 3 * one.usage.prompt_tokens
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


@pytest.mark.parametrize("model", ["native", "single"])
def test_n_choices_streamed(gw: GatewayServer, model: str) -> None:
    stream = client(gw).chat.completions.create(
        model=model, messages=ASK, n=3, stream=True, stream_options={"include_usage": True}
    )
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    ids = set()
    usage = None
    for chunk in stream:
        ids.add(chunk.id)
        for c in chunk.choices:
            texts[c.index] = texts.get(c.index, "") + (c.delta.content or "")
            if c.finish_reason:
                finishes[c.index] = c.finish_reason
        usage = chunk.usage or usage
    assert len(ids) == 1  # one stream, whatever it took upstream
    assert sorted(texts) == [0, 1, 2] and len(set(texts.values())) == 1 and texts[0]
    assert finishes == {0: "stop", 1: "stop", 2: "stop"}
    assert usage is not None and usage.completion_tokens == 3 * MOCK_TOKENS


def test_legacy_completions_serve_n(gw: GatewayServer) -> None:
    resp = client(gw).completions.create(model="single", prompt="Say hi", n=2, max_tokens=4)
    assert [c.index for c in resp.choices] == [0, 1]
    assert resp.choices[0].text and resp.choices[0].text == resp.choices[1].text


def test_n_beyond_128_is_refused(gw: GatewayServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(gw).chat.completions.create(model="native", messages=ASK, n=129)
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "n"


def test_quota_reserves_every_choice(gw: GatewayServer) -> None:
    """A deployment's tokens-per-minute quota reserves the reply cap once per choice."""
    ok = client(gw).chat.completions.create(model="quota", messages=ASK, max_tokens=20)
    assert ok.choices[0].message.content
    with pytest.raises(openai.RateLimitError):
        client(gw).chat.completions.create(model="quota", messages=ASK, max_tokens=20, n=5)


def test_leaving_a_fanned_out_stream_closes_every_upstream_call(
    gw: GatewayServer, mock_upstream: MockUpstream
) -> None:
    before = mock_upstream.stats()
    stream = client(gw).chat.completions.create(model="slow", messages=ASK, n=3, stream=True)
    seen = set()
    for chunk in stream:
        seen.update(c.index for c in chunk.choices if c.delta.content)
        if len(seen) == 3:
            break
    stream.close()

    def all_three_left() -> bool:
        now = mock_upstream.stats()
        return now["client_disconnects"] - before["client_disconnects"] == 3

    assert wait_for(all_three_left, timeout=10), mock_upstream.stats()
    assert mock_upstream.stats()["completed_streams"] == before["completed_streams"]
