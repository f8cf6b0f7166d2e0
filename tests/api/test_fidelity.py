"""Fidelity: every field an OpenAI-wire upstream sends reaches the `openai` client unchanged,
plain and streamed, except what Switchboard owns (`model` is the public name)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway
from tests.api.fidelity_upstream import PLAIN, STREAMS, FidelityUpstream, stream_chunks

PUBLIC = "wire"


@pytest.fixture(scope="module")
def upstream(background: BackgroundLoop) -> Iterator[FidelityUpstream]:
    up = FidelityUpstream()
    background.run(up.start())
    yield up
    background.run(up.stop())


@pytest.fixture(scope="module")
def gw(background: BackgroundLoop, upstream: FidelityUpstream) -> Iterator[GatewayServer]:
    dep = {"provider": "openai", "model": "gpt-upstream-2024", "api_base": upstream.url}
    catalogue = Catalogue.model_validate({"models": [{"name": PUBLIC, "deployments": [dep]}]})
    with run_gateway(background, Settings(catalogue=catalogue)) as server:
        yield server


def client(gw: GatewayServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key="unused", max_retries=0, timeout=10)


def as_public(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "model": PUBLIC}


def ask(gw: GatewayServer, scenario: str, **kw: Any) -> Any:
    messages = [{"role": "user", "content": scenario}]
    return client(gw).chat.completions.create(model=PUBLIC, messages=messages, **kw)


@pytest.mark.parametrize("scenario", sorted(PLAIN))
def test_plain_reply_reaches_the_client_unchanged(gw: GatewayServer, scenario: str) -> None:
    messages = [{"role": "user", "content": scenario}]
    raw = client(gw).chat.completions.with_raw_response.create(model=PUBLIC, messages=messages)
    assert orjson.loads(raw.http_response.content) == as_public(PLAIN[scenario])
    assert raw.parse().to_dict() == as_public(PLAIN[scenario])


def test_plain_fields_typed_in_the_sdk(gw: GatewayServer) -> None:
    resp = ask(gw, "everything")
    choice = resp.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content[0].logprob == -0.25
    assert choice.message.annotations[0].url_citation.url == "https://example.com/"
    assert choice.message.reasoning_content == "The user greets me; greet back."  # type: ignore[attr-defined]
    assert resp.service_tier == "default" and resp.system_fingerprint == "fp_0123abcd"
    assert resp.usage.prompt_tokens_details.cached_tokens == 8
    assert resp.usage.completion_tokens_details.reasoning_tokens == 3
    assert resp.usage.completion_tokens_details.rejected_prediction_tokens == 1
    assert ask(gw, "refusal").choices[0].message.refusal == "I can't help with that."
    call = ask(gw, "function_call").choices[0].message.function_call
    assert call.name == "get_weather" and call.arguments == '{"city": "Paris"}'
    assert ask(gw, "audio").choices[0].message.audio.transcript == "Hi"


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("scenario", sorted(STREAMS))
def test_stream_reaches_the_client_unchanged(
    gw: GatewayServer, scenario: str, include_usage: bool
) -> None:
    """Chunk for chunk, field for field, as the SDK parses them; the usage chunk (and
    `usage: null` on the others) only when the client asked for usage, as OpenAI does."""
    options = {"include_usage": True} if include_usage else None
    chunks = ask(gw, scenario, stream=True, stream_options=options or openai.NOT_GIVEN)
    got = [c.to_dict() for c in chunks]
    assert got == [as_public(c) for c in stream_chunks(scenario, include_usage)]


def test_stream_fields_typed_in_the_sdk(gw: GatewayServer) -> None:
    chunks = list(ask(gw, "everything", stream=True))
    reasoning = "".join(
        getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks
    )
    assert reasoning == "The user greets me; greet back."
    assert [c.choices[0].logprobs.content[0].token for c in chunks if c.choices[0].logprobs] == [
        "Hi"
    ]
    refusal = "".join(c.choices[0].delta.refusal or "" for c in ask(gw, "refusal", stream=True))
    assert refusal == "I can't help with that."
    args = "".join(
        c.choices[0].delta.function_call.arguments
        for c in ask(gw, "function_call", stream=True)
        if c.choices[0].delta.function_call
    )
    assert args == '{"city": "Paris"}'


def test_sse_wire_bytes_keep_every_field(gw: GatewayServer) -> None:
    """Below the SDK: the SSE data lines themselves, so nothing is hidden by parsing."""
    body = {"model": PUBLIC, "messages": [{"role": "user", "content": "everything"}]}
    body |= {"stream": True, "stream_options": {"include_usage": True}}
    resp = httpx.post(gw.url + "/chat/completions", json=body, timeout=10)
    lines = [ln[6:] for ln in resp.text.splitlines() if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    got = [orjson.loads(ln) for ln in lines[:-1]]
    assert got == [as_public(c) for c in stream_chunks("everything", True)]
