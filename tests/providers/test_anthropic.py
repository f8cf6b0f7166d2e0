"""Anthropic adapter: requests as the upstream receives them, recorded replies replayed through
the real HttpProvider and transport against a local stand-in (tests/providers/anthropic_standin.py).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.domain import ChatChunk, ChatRequest, EmbeddingRequest, Message
from switchboard.errors import (
    InvalidRequest,
    ProviderError,
    StreamInterrupted,
    UnsupportedOperation,
    UpstreamBadRequest,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from switchboard.providers.anthropic import AnthropicAdapter, build_anthropic
from switchboard.providers.anthropic_stream import AnthropicStreamParser
from switchboard.providers.base import SseEvent
from switchboard.providers.http import HttpProvider
from switchboard.providers.registry import build_provider


def _load_standin() -> Any:
    """Tests have no package (--import-mode=importlib), so the stand-in is imported by path."""
    path = Path(__file__).with_name("anthropic_standin.py")
    spec = importlib.util.spec_from_file_location("anthropic_standin", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


standin_module = _load_standin()
AnthropicStandIn = standin_module.AnthropicStandIn
Reply = standin_module.Reply

KEY = "test-anthropic-key-5f1c2a9d77"
MODEL = "claude-sonnet-4-20250514"


def deployment(base_url: str = "http://127.0.0.1:9", **options: Any) -> DeploymentConfig:
    return DeploymentConfig(
        provider="anthropic",
        model=MODEL,
        name="claude-test",
        api_base=base_url,
        api_key=KEY,
        options=options,
    )


def chat(*messages: Message, **kw: Any) -> ChatRequest:
    return ChatRequest(model="claude", messages=list(messages), **kw)


def hello() -> ChatRequest:
    return chat(Message("user", "Hello"))


def sent_body(request: ChatRequest, **options: Any) -> dict[str, Any]:
    upstream = AnthropicAdapter(deployment(**options)).chat_request(request, stream=False)
    body: dict[str, Any] = orjson.loads(upstream.body)
    return body


@pytest.fixture
async def standin() -> AsyncIterator[Any]:
    async with AnthropicStandIn() as server:
        yield server


@pytest.fixture
async def provider(standin: Any) -> AsyncIterator[HttpProvider]:
    built = build_anthropic(deployment(standin.base_url), Settings())
    await built.start()
    yield built
    await built.aclose()


async def collect(provider: HttpProvider, request: ChatRequest) -> list[ChatChunk]:
    return [chunk async for chunk in provider.stream(request)]


# --- request translation -----------------------------------------------------------------


async def test_request_as_received_upstream(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("text_response.json"))
    weather = {"type": "object", "properties": {"location": {"type": "string"}}}
    request = chat(
        Message("system", "You are terse."),
        Message("developer", [{"type": "text", "text": "Answer in English."}]),
        Message("user", "What's the weather in SF?"),
        Message(
            "user",
            [
                {"type": "text", "text": "And the time?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/map.png"}},
            ],
        ),
        Message(
            "assistant",
            None,
            tool_calls=[
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "SF"}'},
                },
                {"id": "call_2", "type": "function", "function": {"name": "get_time"}},
            ],
        ),
        Message("tool", "18°C, fog", tool_call_id="call_1"),
        Message("tool", "09:41", tool_call_id="call_2"),
        Message("user", "Thanks. Summarise."),
        temperature=0.2,
        stop=["\n\nHuman:"],
        params={
            "user": "user-42",
            "presence_penalty": 0.5,
            "n": 1,
            "tool_choice": "required",
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "Current weather",
                        "parameters": weather,
                    },
                },
                {"type": "function", "function": {"name": "get_time"}},
            ],
        },
    )
    await provider.chat(request)

    [received] = standin.received
    assert received.path == "/v1/messages"
    assert received.headers["x-api-key"] == KEY
    assert received.headers["anthropic-version"] == "2023-06-01"
    assert received.headers["content-type"] == "application/json"
    assert "authorization" not in received.headers
    assert received.body == {
        "model": MODEL,
        "max_tokens": 4096,
        "system": "You are terse.\n\nAnswer in English.",
        "temperature": 0.2,
        "stop_sequences": ["\n\nHuman:"],
        "metadata": {"user_id": "user-42"},
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What's the weather in SF?"},
                    {"type": "text", "text": "And the time?"},
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": "iVBORw0KGgo=",
                        },
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/map.png"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "get_weather",
                        "input": {"location": "SF"},
                    },
                    {"type": "tool_use", "id": "call_2", "name": "get_time", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18°C, fog"},
                    {"type": "tool_result", "tool_use_id": "call_2", "content": "09:41"},
                    {"type": "text", "text": "Thanks. Summarise."},
                ],
            },
        ],
        "tools": [
            {"name": "get_weather", "description": "Current weather", "input_schema": weather},
            {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
        ],
        "tool_choice": {"type": "any"},
    }


async def test_stream_request_and_options(standin: Any) -> None:
    options = {"anthropic_version": "2024-10-22", "default_max_tokens": 1024}
    built = build_anthropic(deployment(standin.base_url, **options), Settings())
    await built.start()
    try:
        standin.replies.append(Reply.fixture("stream_text.sse"))
        await collect(built, hello())
    finally:
        await built.aclose()
    [received] = standin.received
    assert received.headers["anthropic-version"] == "2024-10-22"
    assert received.body == {
        "model": MODEL,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
        "stream": True,
    }


def test_token_limit_from_either_openai_field() -> None:
    assert sent_body(chat(Message("user", "hi"), max_tokens=300))["max_tokens"] == 300
    limited = chat(Message("user", "hi"), params={"max_completion_tokens": 77})
    assert sent_body(limited)["max_tokens"] == 77


TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        (
            {"type": "function", "function": {"name": "lookup"}},
            None,
            {"type": "tool", "name": "lookup"},
        ),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (None, None, None),
    ],
)
def test_tool_choice(choice: Any, parallel: Any, expected: dict[str, Any] | None) -> None:
    params: dict[str, Any] = {"tools": TOOLS}
    if choice is not None:
        params["tool_choice"] = choice
    if parallel is not None:
        params["parallel_tool_calls"] = parallel
    body = sent_body(chat(Message("user", "hi"), params=params))
    assert body.get("tool_choice") == expected
    assert body["tools"] == [{"name": "lookup", "input_schema": {"type": "object"}}]


def test_tool_results_lead_their_user_turn_and_cache_control_passes() -> None:
    call = {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    mark = {"type": "ephemeral"}
    body = sent_body(
        chat(
            Message("user", [{"type": "text", "text": "long document", "cache_control": mark}]),
            Message("assistant", "Checking.", tool_calls=[call]),
            Message("user", "hurry"),
            Message("tool", [{"type": "text", "text": "42"}], tool_call_id="toolu_1"),
        )
    )
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "long document", "cache_control": mark}],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "42"}],
                },
                {"type": "text", "text": "hurry"},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (Message("user", [{"type": "input_audio", "input_audio": {}}]), UnsupportedOperation),
        (
            Message("user", [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]),
            InvalidRequest,
        ),
        (
            Message("user", [{"type": "image_url", "image_url": {"url": "data:image/png,raw"}}]),
            InvalidRequest,
        ),
        (
            Message(
                "assistant",
                None,
                tool_calls=[{"id": "c", "function": {"name": "f", "arguments": "[1"}}],
            ),
            InvalidRequest,
        ),
        (Message("tool", "result"), InvalidRequest),
    ],
)
def test_untranslatable_messages_are_the_clients_fault(
    message: Message, error: type[Exception]
) -> None:
    with pytest.raises(error):
        sent_body(chat(Message("user", "hi"), message))


# --- responses ----------------------------------------------------------------------------


async def test_text_response(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("text_response.json"))
    response = await provider.chat(hello())
    assert response.id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert response.model == "claude"
    [choice] = response.choices
    assert (choice.role, choice.content, choice.finish_reason) == (
        "assistant",
        "Hello! How can I help you today?",
        "stop",
    )
    assert choice.tool_calls is None
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (12, 11)
    assert (response.usage.cached_tokens, response.usage.cache_write_tokens) == (0, 0)


async def test_tool_use_response(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("tool_use_response.json"))
    [choice] = (await provider.chat(hello())).choices
    assert choice.finish_reason == "tool_calls"
    assert choice.content == "I'll check the current weather in San Francisco."
    assert choice.tool_calls is not None
    [call] = choice.tool_calls
    assert call["id"] == "toolu_01A09q90qw90lq917835lq9"
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert isinstance(call["function"]["arguments"], str)
    assert orjson.loads(call["function"]["arguments"]) == {
        "location": "San Francisco, CA",
        "unit": "celsius",
    }


async def test_usage_counts_cached_prompt_tokens(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("cached_response.json"))
    response = await provider.chat(hello())
    assert response.choices[0].finish_reason == "length"
    usage = response.usage
    assert usage is not None
    assert usage.prompt_tokens == 21 + 1800 + 188
    assert (usage.cached_tokens, usage.cache_write_tokens) == (1800, 188)
    assert (usage.completion_tokens, usage.total_tokens) == (16, 2009 + 16)


# --- streaming ----------------------------------------------------------------------------


async def test_streamed_text(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("stream_text.sse"))
    chunks = await collect(provider, hello())
    assert chunks[0].choices[0].role == "assistant"
    assert all(c.choices[0].role is None for c in chunks[1:] if c.choices)
    assert {c.id for c in chunks} == {"msg_014p7gG3wDgGV9EUtLvnow3U"}
    text = "".join(c.choices[0].content or "" for c in chunks if c.choices)
    assert text == "Hello! How can I help you today?"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert [f for f in finishes if f] == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (25, 15)
    assert [c for c in chunks[:-1] if c.usage is not None] == []


async def test_streamed_tool_calls(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("stream_tool_use.sse"))
    chunks = await collect(provider, hello())
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in (chunk.choices[0].tool_calls or []) if chunk.choices else []:
            call = calls.setdefault(delta["index"], {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.get("id") or ""
            call["name"] += delta.get("function", {}).get("name") or ""
            call["arguments"] += delta.get("function", {}).get("arguments") or ""
    assert sorted(calls) == [0, 1]
    assert calls[0]["id"] == "toolu_01T1x1fJ34qAmk2tNTrN7Up6"
    assert calls[0]["name"] == "get_weather"
    assert orjson.loads(calls[0]["arguments"]) == {"location": "San Francisco, CA"}
    assert calls[1]["name"] == "get_time"
    assert orjson.loads(calls[1]["arguments"]) == {"timezone": "America/Los_Angeles"}
    text = "".join(c.choices[0].content or "" for c in chunks if c.choices)
    assert text == "Let me check both for you."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens) == (1496, 1024, 89)


async def test_stream_cut_before_message_delta(standin: Any, provider: HttpProvider) -> None:
    recorded = Reply.fixture("stream_text.sse")
    recorded.body = recorded.body.split(b"event: message_delta")[0]
    standin.replies.append(recorded)
    with pytest.raises(StreamInterrupted):
        await collect(provider, hello())


async def test_in_stream_overloaded_error(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("stream_overloaded.sse"))
    seen: list[ChatChunk] = []
    with pytest.raises(UpstreamUnavailable) as caught:
        async for chunk in provider.stream(hello()):
            seen.append(chunk)
    assert caught.value.upstream_status == 529
    assert "Overloaded" in caught.value.message
    assert "".join(c.choices[0].content or "" for c in seen if c.choices) == "Once upon"


def test_in_stream_rate_limit_event() -> None:
    parser = AnthropicStreamParser("claude", AnthropicAdapter(deployment()).error)
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    with pytest.raises(UpstreamRateLimited):
        parser.feed(SseEvent("error", orjson.dumps(error).decode()))


def test_parser_done_and_finished() -> None:
    parser = AnthropicStreamParser("claude", AnthropicAdapter(deployment()).error)
    start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 3}}}
    parser.feed(SseEvent("message_start", orjson.dumps(start).decode()))
    assert parser.feed(SseEvent("ping", '{"type": "ping"}')) == []
    assert not parser.finished() and not parser.done()
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 2},
    }
    parser.feed(SseEvent("message_delta", orjson.dumps(delta).decode()))
    assert parser.finished() and not parser.done()
    [final] = parser.feed(SseEvent("message_stop", '{"type": "message_stop"}'))
    assert parser.done()
    assert final.usage is not None and final.usage.total_tokens == 5


# --- errors -------------------------------------------------------------------------------


async def test_rate_limited_keeps_retry_after(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("error_rate_limit.json", 429, {"retry-after": "17"}))
    with pytest.raises(UpstreamRateLimited) as caught:
        await provider.chat(hello())
    assert caught.value.retry_after == 17.0
    assert caught.value.headers == {"Retry-After": "17"}
    assert caught.value.upstream_status == 429


async def test_refused_credentials_echo_nothing(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("error_authentication.json", 401))
    with pytest.raises(ProviderError) as caught:
        await provider.chat(hello())
    err = caught.value
    assert type(err) is ProviderError
    assert err.status == 502 and err.upstream_status == 401
    assert KEY not in str(err) and "x-api-key" not in err.message


async def test_overloaded_status_is_unavailable(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("error_overloaded.json", 529))
    with pytest.raises(UpstreamUnavailable) as caught:
        await collect(provider, hello())
    assert caught.value.status == 502 and caught.value.upstream_status == 529


async def test_bad_request_is_redacted(standin: Any, provider: HttpProvider) -> None:
    standin.replies.append(Reply.fixture("error_invalid_request.json", 400))
    echoed = {"type": "error", "error": {"type": "invalid_request_error", "message": f"bad {KEY}"}}
    standin.replies.append(Reply(400, orjson.dumps(echoed)))
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(hello())
    assert "invalid_request_error" in caught.value.message
    assert "tool_result" in caught.value.message
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(hello())
    assert KEY not in caught.value.message and "[redacted]" in caught.value.message


async def test_no_embeddings(provider: HttpProvider) -> None:
    with pytest.raises(UnsupportedOperation):
        await provider.embed(EmbeddingRequest(model="claude", input=["hi"]))


def test_registry_builds_the_anthropic_adapter() -> None:
    built = build_provider(deployment(), Settings())
    assert isinstance(built, HttpProvider) and isinstance(built.adapter, AnthropicAdapter)
