"""The anthropic SDK on `/v1/messages` of a gateway in front of the Anthropic and Bedrock
stand-ins: thinking (with its signature), text, tool use, the stop reason and the cache token
counts reach it, plain and streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import orjson
import pytest

from switchboard.testing.harness import BackgroundLoop, GatewayServer
from tests.clients.translated import (
    ARGUMENTS,
    PROVIDERS,
    SIGNATURES,
    TEXT,
    THOUGHT,
    Upstreams,
    translated,
)
from tests.providers import anthropic_standin

ASK: Any = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.fixture(scope="module")
def stand_ins(background: BackgroundLoop) -> Iterator[tuple[Upstreams, GatewayServer]]:
    with translated(background) as both:
        yield both


def sdk(gw: GatewayServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.base, api_key="x", max_retries=0, timeout=10)


def check(message: Any, provider: str, streamed: bool = False) -> None:
    kinds = [block.type for block in message.content]
    if provider == "anthropic" and not streamed:  # redacted thinking travels whole
        assert kinds == ["thinking", "redacted_thinking", "text", "tool_use"]
    else:
        assert kinds == ["thinking", "text", "tool_use"]
    thinking, text, tool = message.content[0], message.content[-2], message.content[-1]
    assert thinking.thinking == THOUGHT and thinking.signature == SIGNATURES[provider]
    assert text.text == TEXT
    assert tool.name == "get_weather" and tool.input == ARGUMENTS[provider]
    assert message.stop_reason == "tool_use"
    assert message.usage.cache_read_input_tokens == 1500
    assert message.usage.cache_creation_input_tokens == 200
    assert message.usage.input_tokens == 30 and message.usage.output_tokens == 90


@pytest.mark.parametrize("provider", PROVIDERS)
def test_plain(stand_ins: tuple[Upstreams, GatewayServer], provider: str) -> None:
    upstreams, gw = stand_ins
    upstreams.queue(provider, stream=False)
    check(sdk(gw).messages.create(model=provider, max_tokens=2000, messages=ASK), provider)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_streamed(stand_ins: tuple[Upstreams, GatewayServer], provider: str) -> None:
    upstreams, gw = stand_ins
    upstreams.queue(provider, stream=True)
    with sdk(gw).messages.stream(model=provider, max_tokens=2000, messages=ASK) as stream:
        message = stream.get_final_message()
    check(message, provider, streamed=True)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_async(stand_ins: tuple[Upstreams, GatewayServer], provider: str) -> None:
    upstreams, gw = stand_ins
    upstreams.queue(provider, stream=False)
    client = anthropic.AsyncAnthropic(base_url=gw.base, api_key="x", max_retries=0, timeout=10)
    check(await client.messages.create(model=provider, max_tokens=2000, messages=ASK), provider)


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events
    )


def test_streamed_redacted_thinking(stand_ins: tuple[Upstreams, GatewayServer]) -> None:
    """A redacted block (encrypted, no text to stream) reaches the SDK whole, in its place."""
    upstreams, gw = stand_ins
    redacted = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}
    usage = {"input_tokens": 30, "output_tokens": 1}
    start = {"id": "msg_01Redacted", "type": "message", "role": "assistant", "model": "claude-x"}
    start |= {"content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    body = sse(
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": redacted},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": TEXT}},
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": usage},
        {"type": "message_stop"},
    )
    upstreams.anthropic.replies.append(anthropic_standin.Reply(body=body, stream=True))
    with sdk(gw).messages.stream(model="anthropic", max_tokens=2000, messages=ASK) as stream:
        message = stream.get_final_message()
    assert [b.model_dump() for b in message.content] == [
        redacted,
        {"type": "text", "text": TEXT, "citations": None},
    ]
    assert message.stop_reason == "end_turn"
