"""Fidelity through translated providers: what Anthropic and Bedrock say that has an OpenAI
equivalent reaches the `openai` client in OpenAI's shape, plain and streamed: thinking as
`reasoning_content` (blocks with their signatures in `thinking_blocks`), stop reasons, tool
calls, and cache token counts (`prompt_tokens_details.cached_tokens`, cache writes as
`cache_creation_input_tokens`). Against the Anthropic and Bedrock stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import orjson
import pytest

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, run_gateway
from tests.providers import anthropic_standin, bedrock_standin

THOUGHT = "The user wants the weather; I should call the tool."
SIGNATURES = {"anthropic": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}
SIGNATURES["bedrock"] = "ErcBCkgIAhABGAIiQHa"
ARGUMENTS = {"anthropic": {"location": "Paris"}, "bedrock": {"city": "Paris"}}
ASK = [{"role": "user", "content": "Weather in Paris?"}]


@dataclass
class Upstreams:
    anthropic: anthropic_standin.AnthropicStandIn
    bedrock: bedrock_standin.BedrockStandIn

    def queue(self, provider: str, stream: bool) -> None:
        if provider == "anthropic":
            name = "stream_thinking.sse" if stream else "thinking_response.json"
            self.anthropic.replies.append(anthropic_standin.Reply.fixture(name))
        elif stream:
            self.bedrock.replies.append(bedrock_standin.Reply.stream("stream_reasoning.jsonl"))
        else:
            self.bedrock.replies.append(bedrock_standin.Reply.json("converse_reasoning.json"))

    def last_body(self, provider: str) -> dict[str, Any]:
        if provider == "anthropic":
            return self.anthropic.received[-1].body
        return self.bedrock.received[-1].body


@pytest.fixture(scope="module")
def upstreams(background: BackgroundLoop) -> Iterator[Upstreams]:
    a, b = anthropic_standin.AnthropicStandIn(), bedrock_standin.BedrockStandIn()
    background.run(a.__aenter__())
    background.run(b.__aenter__())
    yield Upstreams(a, b)
    background.run(a.__aexit__(None, None, None))
    background.run(b.__aexit__(None, None, None))


@pytest.fixture(scope="module")
def gw(background: BackgroundLoop, upstreams: Upstreams) -> Iterator[GatewayServer]:
    base = upstreams.anthropic.base_url
    anthropic = {"provider": "anthropic", "model": "claude-x", "api_base": base}
    bedrock = {
        "provider": "bedrock",
        "model": "anthropic.claude-x",
        "api_base": upstreams.bedrock.endpoint_url,
        "region": "eu-west-1",
        "api_key": "AKIDEXAMPLE:secretexample",
    }
    models = [
        {"name": "anthropic", "deployments": [anthropic]},
        {"name": "bedrock", "deployments": [bedrock]},
    ]
    catalogue = Catalogue.model_validate({"models": models})
    with run_gateway(background, Settings(catalogue=catalogue)) as server:
        yield server


def client(gw: GatewayServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key="x", max_retries=0, timeout=10)


def check_usage(usage: Any) -> None:
    assert usage.prompt_tokens == 30 + 1500 + 200  # OpenAI's count: the whole prompt
    assert usage.completion_tokens == 90
    assert usage.prompt_tokens_details.cached_tokens == 1500
    assert usage.model_extra["cache_read_input_tokens"] == 1500
    assert usage.model_extra["cache_creation_input_tokens"] == 200


@pytest.mark.parametrize("provider", ["anthropic", "bedrock"])
def test_plain(gw: GatewayServer, upstreams: Upstreams, provider: str) -> None:
    upstreams.queue(provider, stream=False)
    resp = client(gw).chat.completions.create(model=provider, messages=ASK)
    [choice] = resp.choices
    message = choice.message
    assert choice.finish_reason == "tool_calls"
    assert message.content == "Let me look that up."
    assert message.reasoning_content == THOUGHT  # type: ignore[attr-defined]
    blocks = message.thinking_blocks  # type: ignore[attr-defined]
    assert blocks[0] == {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURES[provider]}
    if provider == "anthropic":  # redacted thinking travels whole, for the next turn
        assert blocks[1]["type"] == "redacted_thinking" and blocks[1]["data"]
    [call] = message.tool_calls or []
    assert call.function.name == "get_weather"
    assert orjson.loads(call.function.arguments) == ARGUMENTS[provider]
    check_usage(resp.usage)


@pytest.mark.parametrize("provider", ["anthropic", "bedrock"])
def test_streamed(gw: GatewayServer, upstreams: Upstreams, provider: str) -> None:
    upstreams.queue(provider, stream=True)
    chunks = list(
        client(gw).chat.completions.create(
            model=provider, messages=ASK, stream=True, stream_options={"include_usage": True}
        )
    )
    reasoning = text = arguments = ""
    blocks: list[Any] = []
    finish = None
    for chunk in chunks:
        for c in chunk.choices:
            delta = c.delta
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            blocks += (delta.model_extra or {}).get("thinking_blocks") or []
            text += delta.content or ""
            for call in delta.tool_calls or ():
                arguments += call.function.arguments or "" if call.function else ""
            finish = c.finish_reason or finish
    assert reasoning == THOUGHT and text == "Let me look that up."
    assert blocks == [{"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURES[provider]}]
    assert orjson.loads(arguments) == ARGUMENTS[provider] and finish == "tool_calls"
    check_usage(chunks[-1].usage)


@pytest.mark.parametrize("provider", ["anthropic", "bedrock"])
def test_reasoning_effort_asks_for_thinking(
    gw: GatewayServer, upstreams: Upstreams, provider: str
) -> None:
    upstreams.queue(provider, stream=False)
    client(gw).chat.completions.create(
        model=provider, messages=ASK, reasoning_effort="low", max_completion_tokens=3000
    )
    body = upstreams.last_body(provider)
    fields = body if provider == "anthropic" else body["additionalModelRequestFields"]
    assert fields["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    with pytest.raises(openai.BadRequestError) as caught:  # no room for the minimum budget
        client(gw).chat.completions.create(
            model=provider, messages=ASK, reasoning_effort="high", max_completion_tokens=500
        )
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "reasoning_effort"


def test_messages_ingress_hands_back_signed_thinking(
    gw: GatewayServer, upstreams: Upstreams
) -> None:
    """Anthropic in, Anthropic out: the thinking blocks keep their signatures end to end."""
    import anthropic

    upstreams.queue("anthropic", stream=False)
    sdk = anthropic.Anthropic(base_url=gw.base, api_key="x", max_retries=0, timeout=10)
    message = sdk.messages.create(model="anthropic", max_tokens=2000, messages=ASK)  # type: ignore[arg-type]
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "redacted_thinking", "text", "tool_use"]
    thinking = message.content[0]
    assert thinking.type == "thinking" and thinking.signature == SIGNATURES["anthropic"]
    assert message.stop_reason == "tool_use"
    assert message.usage.cache_read_input_tokens == 1500
    assert message.usage.cache_creation_input_tokens == 200
