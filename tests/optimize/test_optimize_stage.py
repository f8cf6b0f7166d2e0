"""The optimize stage through a real gateway: the openai client sends a long conversation, the
mock provider receives the trimmed one, and the response headers say what was trimmed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway

FILLER = "Here is a long paragraph about the history of distributed consensus protocols. " * 15


def history(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are helpful."}]
    for i in range(turns):
        messages.append({"role": "user", "content": f"question {i}: {FILLER}"})
        messages.append({"role": "assistant", "content": f"answer {i}: {FILLER}"})
    messages.append({"role": "user", "content": "and now the last question?"})
    return messages


@pytest.fixture(scope="module")
def server(background: BackgroundLoop, mock_upstream: MockUpstream) -> Iterator[GatewayServer]:
    dep = {"provider": "openai", "model": "up", "api_base": mock_upstream.url}
    models = [
        {
            "name": "trimmed",
            "deployments": [{**dep, "name": "trimmed-a"}],
            "optimize": {"max_context_tokens": 1000, "adaptive_max_tokens": True},
        },
        {"name": "plain", "deployments": [{**dep, "name": "plain-a"}]},
    ]
    settings = Settings(catalogue=Catalogue.model_validate({"models": models}))
    with run_gateway(background, settings) as gw:
        yield gw


def test_long_context_is_trimmed_before_it_goes_upstream(
    server: GatewayServer, mock_upstream: MockUpstream
) -> None:
    client = openai.OpenAI(base_url=server.url, api_key="unused")
    sent = history(6)
    raw = client.chat.completions.with_raw_response.create(model="trimmed", messages=sent)
    assert raw.parse().choices[0].message.content
    upstream = mock_upstream.last_request()["body"]
    got = upstream["messages"]
    assert got[0] == sent[0] and got[-1] == sent[-1]  # system prompt and last question stay
    assert len(got) < len(sent) and (len(got) - 2) % 2 == 0  # whole turns went
    assert got[1:-1] == sent[len(sent) - len(got) + 1 : -1]  # the newest turns are kept
    trimmed = int(raw.headers["x-switchboard-trimmed-tokens"])
    assert trimmed > 0
    assert int(raw.headers["x-switchboard-trimmed-messages"]) == len(sent) - len(got)
    assert upstream["max_tokens"] == int(raw.headers["x-switchboard-max-tokens"])


def test_a_streamed_request_is_trimmed_too_and_the_clients_cap_is_kept(
    server: GatewayServer, mock_upstream: MockUpstream
) -> None:
    client = openai.OpenAI(base_url=server.url, api_key="unused")
    sent = history(6)
    raw = client.chat.completions.with_raw_response.create(
        model="trimmed", messages=sent, stream=True, max_tokens=7
    )
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    upstream = mock_upstream.last_request()["body"]
    assert len(upstream["messages"]) < len(sent) and upstream["max_tokens"] == 7
    assert "x-switchboard-max-tokens" not in raw.headers


def test_a_model_without_the_optimizer_passes_untouched(
    server: GatewayServer, mock_upstream: MockUpstream
) -> None:
    client = openai.OpenAI(base_url=server.url, api_key="unused")
    sent = history(6)
    raw = client.chat.completions.with_raw_response.create(model="plain", messages=sent)
    assert "x-switchboard-trimmed-tokens" not in raw.headers
    upstream = mock_upstream.last_request()["body"]
    assert upstream["messages"] == sent and "max_tokens" not in upstream
