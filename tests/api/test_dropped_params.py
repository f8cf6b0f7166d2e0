"""Say no clearly, or drop and say so: a parameter a deployment cannot honour is a 400 naming it
and the model, unless the catalogue sets `drop_unsupported_params: true` for the model, which
drops it and names it in `x-switchboard-dropped-params`. Against the Anthropic stand-in, with the
real `openai` client; `n` there is served by parallel calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway
from tests.providers.anthropic_standin import AnthropicStandIn, Reply

HI = [{"role": "user", "content": "hi"}]
DROPPED = "x-switchboard-dropped-params"


@pytest.fixture(scope="module")
def standin(background: BackgroundLoop) -> Iterator[AnthropicStandIn]:
    server = AnthropicStandIn()
    background.run(server.__aenter__())
    yield server
    background.run(server.__aexit__(None, None, None))


@pytest.fixture(scope="module")
def gw(background: BackgroundLoop, standin: AnthropicStandIn) -> Iterator[GatewayServer]:
    dep = {"provider": "anthropic", "model": "claude-x", "api_base": standin.base_url}
    models = [
        {"name": "strict", "deployments": [{**dep, "name": "strict-dep"}]},
        {
            "name": "lax",
            "deployments": [{**dep, "name": "lax-dep"}],
            "drop_unsupported_params": True,
        },
    ]
    catalogue = Catalogue.model_validate({"models": models})
    with run_gateway(background, Settings(catalogue=catalogue)) as server:
        yield server


@pytest.fixture
def client(gw: GatewayServer, standin: AnthropicStandIn) -> openai.OpenAI:
    standin.replies.clear()
    standin.received.clear()
    return openai.OpenAI(base_url=gw.url, api_key="x", max_retries=0, timeout=10)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"logprobs": True, "top_logprobs": 2}, "logprobs"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"functions": [{"name": "f", "parameters": {"type": "object"}}]}, "functions"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_refused_naming_parameter_and_model(
    client: openai.OpenAI,
    standin: AnthropicStandIn,
    extra: dict[str, Any],
    param: str,
    stream: bool,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="strict", messages=HI, stream=stream, extra_body=extra)
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == param
    assert body["code"] == "unsupported_parameter"
    assert "`strict`" in body["message"] and f"`{param}`" in body["message"]
    assert "`anthropic`" in body["message"] and "drop_unsupported_params" in body["message"]
    assert standin.received == []  # refused before any upstream call


def test_dropped_and_said_so(client: openai.OpenAI, standin: AnthropicStandIn) -> None:
    standin.replies.append(Reply.fixture("text_response.json"))
    extra = {"logprobs": True, "top_logprobs": 2, "response_format": {"type": "json_object"}}
    raw = client.chat.completions.with_raw_response.create(
        model="lax", messages=HI, temperature=0.5, extra_body=extra
    )
    assert raw.headers[DROPPED] == "response_format,logprobs"
    assert raw.parse().choices[0].message.content
    [received] = standin.received
    assert received.body["temperature"] == 0.5
    assert not {"logprobs", "top_logprobs", "response_format"} & set(received.body)


def test_dropped_on_a_stream_too(client: openai.OpenAI, standin: AnthropicStandIn) -> None:
    standin.replies.append(Reply.fixture("stream_text.sse"))
    with client.chat.completions.with_streaming_response.create(
        model="lax", messages=HI, stream=True, extra_body={"logit_bias": {"1": 5}}
    ) as response:
        assert response.headers[DROPPED] == "logit_bias"
        text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
    assert text


def test_nothing_dropped_no_header(client: openai.OpenAI, standin: AnthropicStandIn) -> None:
    standin.replies.append(Reply.fixture("text_response.json"))
    raw = client.chat.completions.with_raw_response.create(model="lax", messages=HI)
    assert DROPPED not in raw.headers


@pytest.mark.parametrize("stream", [False, True])
def test_n_on_anthropic_is_n_calls(
    client: openai.OpenAI, standin: AnthropicStandIn, stream: bool
) -> None:
    name = "stream_text.sse" if stream else "text_response.json"
    standin.replies.extend([Reply.fixture(name), Reply.fixture(name)])
    one_usage = None
    if stream:
        chunks = list(
            client.chat.completions.create(
                model="strict",
                messages=HI,
                n=2,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        indexes = {c.index for chunk in chunks for c in chunk.choices}
        usage = chunks[-1].usage
    else:
        resp = client.chat.completions.create(model="strict", messages=HI, n=2)
        indexes = {c.index for c in resp.choices}
        assert resp.choices[0].message.content == resp.choices[1].message.content
        usage = resp.usage
    assert indexes == {0, 1}
    assert len(standin.received) == 2 and all("n" not in r.body for r in standin.received)
    standin.replies.append(Reply.fixture(name))
    if stream:
        one = list(
            client.chat.completions.create(
                model="strict", messages=HI, stream=True, stream_options={"include_usage": True}
            )
        )
        one_usage = one[-1].usage
    else:
        one_usage = client.chat.completions.create(model="strict", messages=HI).usage
    assert usage is not None and one_usage is not None
    assert usage.completion_tokens == 2 * one_usage.completion_tokens
    assert usage.prompt_tokens == 2 * one_usage.prompt_tokens
