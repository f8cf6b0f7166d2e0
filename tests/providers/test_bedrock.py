"""Bedrock adapter: SigV4-signed calls through the real aiobotocore client to a local stand-in
(tests/providers/bedrock_standin.py) that speaks Converse JSON and binary event streams.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from botocore.eventstream import EventStreamBuffer

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
    UpstreamTimeout,
    UpstreamUnavailable,
)
from switchboard.providers.base import Provider
from switchboard.providers.bedrock import BedrockProvider, build_bedrock
from switchboard.providers.bedrock_translate import tool_config
from switchboard.providers.registry import build_provider
from switchboard.testing.harness import free_port


def _load_standin() -> Any:
    """Tests have no package (--import-mode=importlib), so the stand-in is imported by path."""
    path = Path(__file__).with_name("bedrock_standin.py")
    spec = importlib.util.spec_from_file_location("bedrock_standin", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


standin_module = _load_standin()
BedrockStandIn = standin_module.BedrockStandIn
Reply = standin_module.Reply

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PNG = b"\x89PNG\r\n\x1a\nfake-image-bytes"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials from the environment; no profile, bearer token or metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


def deployment(endpoint: str, model: str = MODEL, **fields: Any) -> DeploymentConfig:
    return DeploymentConfig(
        provider="bedrock", model=model, name="bedrock-test", api_base=endpoint, **fields
    )


@pytest.fixture
async def standin() -> AsyncIterator[Any]:
    async with BedrockStandIn() as server:
        yield server


@pytest.fixture
async def provider(standin: Any) -> AsyncIterator[BedrockProvider]:
    prov = build_bedrock(deployment(standin.endpoint_url, region="eu-west-1"), Settings())
    await prov.start()
    yield prov
    await prov.aclose()


def chat(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="claude", messages=list(messages), **fields)


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


def test_encoded_frames_decode_with_botocore() -> None:
    frame = standin_module.event_frame("contentBlockDelta", {"delta": {"text": "hé"}})
    frame += standin_module.exception_frame("throttlingException", {"message": "slow down"})
    buffer = EventStreamBuffer()
    buffer.add_data(frame[:7])  # a frame split mid-prelude still decodes once complete
    assert list(buffer) == []
    buffer.add_data(frame[7:])
    event, error = list(buffer)
    assert event.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert orjson.loads(event.payload) == {"delta": {"text": "hé"}}
    assert error.headers[":exception-type"] == "throttlingException"
    assert orjson.loads(error.payload) == {"message": "slow down"}


async def test_request_translation_as_bedrock_receives_it(
    standin: Any, provider: BedrockProvider
) -> None:
    standin.replies.append(Reply.json("converse_text.json"))
    image = "data:image/png;base64," + base64.b64encode(PNG).decode()
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    function = {"name": "get_weather", "description": "Weather", "parameters": schema}
    call_fn = {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    call = {"id": "call_1", "type": "function", "function": call_fn}
    parts: list[dict[str, Any]] = [
        {"type": "text", "text": "Weather?"},
        {"type": "image_url", "image_url": {"url": image}},
    ]
    request = chat(
        Message("system", "Be brief."),
        Message("developer", "Use metric units."),
        Message("user", parts),
        Message("assistant", None, tool_calls=[call]),
        Message("tool", "18C and sunny", tool_call_id="call_1"),
        Message("user", "And tomorrow?"),
        temperature=0.2,
        top_p=0.9,
        stop=["\n\nHuman:"],
        params={
            "max_completion_tokens": 256,
            "tools": [{"type": "function", "function": function}],
            "tool_choice": "required",
        },
    )
    await provider.chat(request)

    received = standin.received[0]
    assert received.operation == "converse"
    assert received.model_id == MODEL
    assert received.raw_path == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    assert received.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/eu-west-1/bedrock/aws4_request" in received.headers["authorization"]
    assert received.body == {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "Weather?"},
                    {
                        "image": {
                            "format": "png",
                            "source": {"bytes": base64.b64encode(PNG).decode()},
                        }
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {
                        "toolUse": {
                            "toolUseId": "call_1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C and sunny"}]}},
                    {"text": "And tomorrow?"},
                ],
            },
        ],
        "system": [{"text": "Be brief."}, {"text": "Use metric units."}],
        "inferenceConfig": {
            "maxTokens": 256,
            "temperature": 0.2,
            "topP": 0.9,
            "stopSequences": ["\n\nHuman:"],
        },
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "Weather",
                        "inputSchema": {"json": schema},
                    }
                }
            ],
            "toolChoice": {"any": {}},
        },
    }


async def test_chat_text_with_cache_usage(standin: Any, provider: BedrockProvider) -> None:
    standin.replies.append(Reply.json("converse_cached.json"))
    response = await provider.chat(chat(Message("user", "Summarise the contract.")))
    assert response.id == f"chatcmpl-{standin.request_ids[0]}"
    assert response.model == "claude"
    [choice] = response.choices
    assert (choice.content or "").startswith("The contract's termination clause")
    assert choice.finish_reason == "length"
    assert choice.tool_calls is None
    usage = response.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (21 + 1800 + 188, 16)
    assert (usage.cached_tokens, usage.cache_write_tokens) == (1800, 188)
    assert "inferenceConfig" not in standin.received[0].body


async def test_chat_tool_use(standin: Any, provider: BedrockProvider) -> None:
    standin.replies.append(Reply.json("converse_tool_use.json"))
    response = await provider.chat(chat(Message("user", "Weather in Paris?")))
    [choice] = response.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.content == "I'll look up the weather in Paris."
    assert choice.tool_calls is not None
    [call] = choice.tool_calls
    assert call["id"] == "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"
    assert call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}


async def test_stream_text_and_usage(standin: Any, provider: BedrockProvider) -> None:
    standin.replies.append(Reply.stream("stream_text.jsonl"))
    chunks = await collect(provider.stream(chat(Message("user", "Hi"), stream=True)))
    assert standin.received[0].operation == "converse-stream"
    assert {c.id for c in chunks} == {f"chatcmpl-{standin.request_ids[0]}"}
    assert chunks[0].choices[0].role == "assistant"
    assert "".join(c.choices[0].content or "" for c in chunks if c.choices) == "Hello there"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (1210, 4)
    assert last.usage.cached_tokens == 1200


async def test_stream_tool_use(standin: Any, provider: BedrockProvider) -> None:
    standin.replies.append(Reply.stream("stream_tool_use.jsonl"))
    chunks = await collect(provider.stream(chat(Message("user", "Weather?"), stream=True)))
    calls = [call for c in chunks if c.choices for call in c.choices[0].tool_calls or ()]
    assert calls[0] == {
        "index": 0,
        "id": "tooluse_Fq3i0pYqSB2KB4yFMHhMFg",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert {call["index"] for call in calls} == {0}
    arguments = "".join(call["function"]["arguments"] for call in calls)
    assert orjson.loads(arguments) == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 402


async def test_stream_exception_event_is_mapped(standin: Any, provider: BedrockProvider) -> None:
    standin.replies.append(Reply.stream("stream_throttled.jsonl"))
    seen: list[ChatChunk] = []
    with pytest.raises(UpstreamRateLimited) as caught:
        async for chunk in provider.stream(chat(Message("user", "Story"), stream=True)):
            seen.append(chunk)
    assert [c.choices[0].content for c in seen] == ["", "Once upon"]
    assert "Too many tokens" in caught.value.message


async def test_stream_cut_before_message_stop(standin: Any, provider: BedrockProvider) -> None:
    standin.replies.append(Reply.stream("stream_cut.jsonl"))
    with pytest.raises(StreamInterrupted):
        await collect(provider.stream(chat(Message("user", "Story"), stream=True)))


async def test_closing_stream_early_closes_connection(
    standin: Any, provider: BedrockProvider
) -> None:
    standin.replies.append(Reply.stream("stream_endless.jsonl", endless=True))
    stream = provider.stream(chat(Message("user", "Go on forever"), stream=True))
    chunks = [await anext(stream) for _ in range(4)]
    assert chunks[-1].choices[0].content == " more"
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(standin.disconnected.wait(), timeout=5)


async def test_stalled_stream_times_out(standin: Any) -> None:
    prov = build_bedrock(deployment(standin.endpoint_url, timeout=0.3), Settings())
    await prov.start()
    standin.replies.append(Reply.stream("stream_cut.jsonl", stall=3))
    seen: list[ChatChunk] = []
    try:
        with pytest.raises(UpstreamTimeout):
            async for chunk in prov.stream(chat(Message("user", "Story"), stream=True)):
                seen.append(chunk)
    finally:
        await prov.aclose()
    assert len(seen) == 2


async def test_finished_stream_leaves_connection_pooled(
    standin: Any, provider: BedrockProvider
) -> None:
    standin.replies += [Reply.stream("stream_text.jsonl"), Reply.json("converse_text.json")]
    await collect(provider.stream(chat(Message("user", "Hi"), stream=True)))
    await provider.chat(chat(Message("user", "Hi again")))
    first, second = standin.received
    assert first.peer_port == second.peer_port
    assert not standin.disconnected.is_set()


async def test_throttling_is_rate_limited_and_not_retried(
    standin: Any, provider: BedrockProvider
) -> None:
    standin.replies += [
        Reply.error(429, "ThrottlingException", "error_throttling.json"),
        Reply.json("converse_text.json"),  # would be served to a botocore retry
    ]
    with pytest.raises(UpstreamRateLimited) as caught:
        await provider.chat(chat(Message("user", "Hi")))
    assert caught.value.upstream_status == 429
    assert "Too many requests" in caught.value.message
    assert len(standin.received) == 1


async def test_validation_error_is_bad_request(standin: Any, provider: BedrockProvider) -> None:
    standin.replies.append(Reply.error(400, "ValidationException", "error_validation.json"))
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.chat(chat(Message("user", "Hi")))
    assert caught.value.status == 400
    assert "roles must alternate" in caught.value.message


async def test_access_denied_never_echoes_the_keys(standin: Any) -> None:
    dep = deployment(standin.endpoint_url, api_key=f"{ACCESS_KEY}:{SECRET_KEY}")
    prov = build_bedrock(dep, Settings())
    await prov.start()
    standin.replies.append(Reply.error(403, "AccessDeniedException", "error_access_denied.json"))
    try:
        with pytest.raises(ProviderError) as caught:
            await prov.chat(chat(Message("user", "Hi")))
    finally:
        await prov.aclose()
    assert type(caught.value) is ProviderError
    assert (caught.value.status, caught.value.upstream_status) == (502, 403)
    assert "credentials" in caught.value.message
    assert ACCESS_KEY not in caught.value.message and SECRET_KEY not in caught.value.message
    auth = standin.received[0].headers["authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")  # explicit keys signed
    assert "/us-east-1/bedrock/aws4_request" in auth  # the default region


@pytest.mark.parametrize(
    ("status", "code", "fixture", "expected"),
    [
        (408, "ModelTimeoutException", "error_model_timeout.json", UpstreamTimeout),
        (429, "ModelNotReadyException", "error_model_not_ready.json", UpstreamUnavailable),
        (503, "ServiceUnavailableException", "error_service_unavailable.json", UpstreamUnavailable),
    ],
)
async def test_error_codes_map_to_types(
    standin: Any,
    provider: BedrockProvider,
    status: int,
    code: str,
    fixture: str,
    expected: type[ProviderError],
) -> None:
    standin.replies.append(Reply.error(status, code, fixture))
    with pytest.raises(expected):
        await provider.chat(chat(Message("user", "Hi")))


async def test_slow_upstream_times_out(standin: Any) -> None:
    prov = build_bedrock(deployment(standin.endpoint_url, timeout=0.3), Settings())
    await prov.start()
    standin.replies.append(Reply(body=b"{}", delay=3))
    try:
        with pytest.raises(UpstreamTimeout):
            await prov.chat(chat(Message("user", "Hi")))
    finally:
        await prov.aclose()


async def test_unreachable_endpoint_is_unavailable() -> None:
    dep = deployment(f"http://127.0.0.1:{free_port()}", connect_timeout=1)
    prov = build_bedrock(dep, Settings())
    await prov.start()
    try:
        with pytest.raises(UpstreamUnavailable):
            await prov.chat(chat(Message("user", "Hi")))
    finally:
        await prov.aclose()


async def test_titan_embeddings_one_call_per_input(standin: Any) -> None:
    dep = deployment(standin.endpoint_url, model="amazon.titan-embed-text-v2:0")
    prov = build_bedrock(dep, Settings())
    await prov.start()
    texts = ["a", "three word text", "a much longer input of six words"]
    try:
        response = await prov.embed(EmbeddingRequest(model="embed", input=texts, dimensions=8))
    finally:
        await prov.aclose()
    assert [v[0] for v in response.vectors] == [float(len(t)) for t in texts]
    assert {len(v) for v in response.vectors} == {8}
    assert response.usage.prompt_tokens == 1 + 3 + 7
    assert sorted(r.body["inputText"] for r in standin.received) == sorted(texts)
    assert {r.operation for r in standin.received} == {"invoke"}
    assert {r.body["dimensions"] for r in standin.received} == {8}


async def test_embeddings_unsupported_on_chat_models(provider: BedrockProvider) -> None:
    with pytest.raises(UnsupportedOperation):
        await provider.embed(EmbeddingRequest(model="claude", input=["hi"]))


async def test_untranslatable_requests_fail_before_sending(
    standin: Any, provider: BedrockProvider
) -> None:
    remote_image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    with pytest.raises(UnsupportedOperation):
        await provider.chat(chat(Message("user", [remote_image])))
    with pytest.raises(InvalidRequest):
        await provider.chat(chat(Message("tool", "orphan result")))
    assert standin.received == []


@pytest.mark.parametrize(
    ("choice", "history_has_tools", "expected"),
    [
        ("auto", False, {"auto": {}}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            False,
            {"tool": {"name": "get_weather"}},
        ),
        ("none", False, None),  # Converse has no "none": the tools are left out
        ("none", True, "no choice"),  # ...unless tool blocks in the history require toolConfig
    ],
)
def test_tool_choice(choice: object, history_has_tools: bool, expected: object) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather"}}]
    turns: list[dict[str, Any]] = [{"role": "user", "content": [{"text": "hi"}]}]
    if history_has_tools:
        turns[0]["content"].append({"toolResult": {"toolUseId": "t1", "content": []}})
    config = tool_config({"tools": tools, "tool_choice": choice}, turns)
    if expected is None:
        assert config is None
    else:
        assert config is not None and config["tools"][0]["toolSpec"]["name"] == "get_weather"
        assert config.get("toolChoice", "no choice") == expected


def test_registry_builds_bedrock_and_rejects_bad_keys() -> None:
    prov: Provider = build_provider(deployment("http://127.0.0.1:9"), Settings())
    assert isinstance(prov, BedrockProvider) and not prov.is_ready()
    with pytest.raises(ValueError, match="ACCESS_KEY_ID:SECRET_ACCESS_KEY"):
        build_bedrock(deployment("http://127.0.0.1:9", api_key="just-a-key"), Settings())
