"""Golden costs: recorded usage shapes of each adapter (plain, streamed, cached) priced exactly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson
import pytest

from switchboard.catalogue import DeploymentConfig, Price
from switchboard.domain import ChatRequest, Message, Usage
from switchboard.pricing import cost_micro, cost_usd
from switchboard.providers.anthropic import AnthropicAdapter
from switchboard.providers.base import SseEvent
from switchboard.providers.bedrock_stream import ConverseStreamParser
from switchboard.providers.bedrock_translate import parse_converse
from switchboard.providers.openai import OpenAIAdapter
from switchboard.providers.sse import iter_sse

FIXTURES = Path(__file__).parent / "providers" / "fixtures"
GPT4O = Price(input=2.5, output=10.0, cached_input=1.25)
SONNET = Price(input=3.0, output=15.0, cached_input=0.30, cache_write_input=3.75)
REQUEST = ChatRequest(model="m", messages=[Message("user", "hi")])


def deployment(provider: str) -> DeploymentConfig:
    return DeploymentConfig(provider=provider, model="m", api_key="sk-golden-test-key")


async def sse_events(raw: bytes) -> list[SseEvent]:
    async def lines():  # type: ignore[no-untyped-def]
        for line in raw.splitlines(keepends=True):
            yield line

    return [e async for e in iter_sse(lines())]


def streamed_usage(chunks: list) -> Usage:  # type: ignore[type-arg]
    usages = [c.usage for c in chunks if c.usage is not None]
    assert len(usages) == 1, "exactly one chunk carries the usage"
    return usages[0]  # type: ignore[no-any-return]


OPENAI_USAGE = {
    "prompt_tokens": 1000,
    "completion_tokens": 200,
    "total_tokens": 1200,
    "prompt_tokens_details": {"cached_tokens": 400},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def test_openai_plain_with_cached_tokens() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}
        ],
        "usage": OPENAI_USAGE,
    }
    usage = OpenAIAdapter(deployment("openai")).parse_chat(orjson.dumps(body), REQUEST).usage
    assert usage is not None
    # 600 fresh x 2.5 + 400 cached x 1.25 + 200 out x 10 = 4000 micro-dollars
    assert cost_micro(usage, GPT4O) == 4000
    assert cost_usd(usage, GPT4O) == pytest.approx(0.004, abs=1e-12)


def test_openai_streamed_usage_chunk() -> None:
    parser = OpenAIAdapter(deployment("openai")).stream_parser(REQUEST)
    events = [
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "g",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "x"},
                      "finish_reason": None}]},
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "g",
         "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "g", "choices": [],
         "usage": OPENAI_USAGE},
    ]  # fmt: skip
    chunks = [c for e in events for c in parser.feed(SseEvent("message", json.dumps(e)))]
    parser.feed(SseEvent("message", "[DONE]"))
    assert cost_micro(streamed_usage(chunks), GPT4O) == 4000


def test_anthropic_plain_with_cache_reads_and_writes() -> None:
    body = (FIXTURES / "anthropic" / "cached_response.json").read_bytes()
    usage = AnthropicAdapter(deployment("anthropic")).parse_chat(body, REQUEST).usage
    assert usage is not None
    assert (usage.cached_tokens, usage.cache_write_tokens) == (1800, 188)
    # 21 fresh x 3 + 1800 read x 0.30 + 188 written x 3.75 + 16 out x 15 = 1548
    assert cost_micro(usage, SONNET) == 1548


def test_anthropic_streamed() -> None:
    parser = AnthropicAdapter(deployment("anthropic")).stream_parser(REQUEST)
    events = asyncio.run(sse_events((FIXTURES / "anthropic" / "stream_text.sse").read_bytes()))
    chunks = [c for e in events for c in parser.feed(e)]
    # 25 in x 3 + 15 out x 15 = 300
    assert cost_micro(streamed_usage(chunks), SONNET) == 300


def test_bedrock_plain_with_cache_reads_and_writes() -> None:
    response = json.loads((FIXTURES / "bedrock" / "converse_cached.json").read_text())
    usage = parse_converse(response, "m").usage
    assert usage is not None
    assert cost_micro(usage, SONNET) == 1548


def test_bedrock_streamed_with_cache_reads() -> None:
    parser = ConverseStreamParser("chatcmpl-x", "m")
    chunks = []
    for line in (FIXTURES / "bedrock" / "stream_text.jsonl").read_text().splitlines():
        record = json.loads(line)
        chunks += parser.feed({record["event"]: record["payload"]})
    # 10 fresh x 3 + 1200 read x 0.30 + 4 out x 15 = 450
    assert cost_micro(streamed_usage(chunks), SONNET) == 450


def test_cache_rates_default_to_input_and_rounding_never_undercharges() -> None:
    usage = Usage(prompt_tokens=10, completion_tokens=1, cached_tokens=4, cache_write_tokens=3)
    assert cost_micro(usage, Price(input=1.0, output=1.0)) == 11
    assert cost_micro(Usage(prompt_tokens=1), Price(input=0.15)) == 1  # 0.15 rounds up
