"""The anthropic SDK against `/v1/messages` of a real gateway, in front of OpenAI-wire upstreams:
the mock, and a scripted upstream that answers with tool calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway
from tests.api.scripted_upstream import Script, ScriptedUpstream
from tests.conftest import SECRET, fault_model, mock_catalogue

MASTER = "sk-master-anthropic-0123456789"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CALL = {
    "id": "call_abc",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


@pytest.fixture(scope="module")
def scripted(background: BackgroundLoop) -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream()
    background.run(upstream.start())
    yield upstream
    background.run(upstream.stop())


def scripted_model(upstream: ScriptedUpstream) -> dict[str, Any]:
    deployment = {"provider": "openai", "model": "gpt-x", "name": "scripted-a"}
    return {
        "name": "scripted",
        "deployments": [{**deployment, "api_base": upstream.url, "api_key": SECRET}],
    }


@pytest.fixture(scope="module")
def gw(
    background: BackgroundLoop, mock_upstream: MockUpstream, scripted: ScriptedUpstream
) -> Iterator[GatewayServer]:
    extra = [
        scripted_model(scripted),
        fault_model(mock_upstream, "mock-429", {"x-mock-error-status": "429"}),
        fault_model(mock_upstream, "mock-cut", {"x-mock-cut-after": "3"}),
    ]
    settings = Settings(catalogue=mock_catalogue(mock_upstream, extra))
    with run_gateway(background, settings) as server:
        yield server


def client(gw: GatewayServer, key: str = "unused") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.base, api_key=key, max_retries=0, timeout=10)


def test_message_plain(gw: GatewayServer, mock_upstream: MockUpstream) -> None:
    raw = client(gw).messages.with_raw_response.create(
        model="mock",
        max_tokens=100,
        system="be brief",
        messages=[{"role": "user", "content": "Say hello"}],
        stop_sequences=["END"],
        extra_body={"temperature": 0.3},  # the SDK no longer names it; the API still takes it
    )
    msg = raw.parse()
    assert msg.type == "message" and msg.role == "assistant" and msg.model == "mock"
    assert msg.id.startswith("msg_")
    assert msg.content[0].type == "text" and len(msg.content[0].text.split()) == 8
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens == 8 and msg.usage.input_tokens > 0
    assert raw.headers["x-switchboard-deployment"] == "mock-a"
    sent = mock_upstream.last_request()["body"]
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "Say hello"},
    ]
    assert sent["max_tokens"] == 100 and sent["temperature"] == 0.3 and sent["stop"] == ["END"]


def test_max_tokens_is_the_stop_reason(gw: GatewayServer) -> None:
    msg = client(gw).messages.create(
        model="mock", max_tokens=3, messages=[{"role": "user", "content": "hi"}]
    )
    assert msg.stop_reason == "max_tokens" and msg.usage.output_tokens == 3


def test_message_stream(gw: GatewayServer) -> None:
    with client(gw).messages.stream(
        model="mock", max_tokens=100, messages=[{"role": "user", "content": "Say hello"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert len(text.split()) == 8 and final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 8 and final.usage.input_tokens > 0


def test_stream_events_in_anthropic_order(gw: GatewayServer) -> None:
    events = client(gw).messages.create(
        model="mock", max_tokens=100, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_tools_round_trip(gw: GatewayServer, scripted: ScriptedUpstream) -> None:
    scripted.scripts = [
        Script({"role": "assistant", "content": None, "tool_calls": [CALL]}, "tool_calls")
    ]
    msg = client(gw).messages.create(
        model="scripted",
        max_tokens=50,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert msg.stop_reason == "tool_use"
    [block] = msg.content
    assert block.type == "tool_use" and block.id == "call_abc"
    assert block.name == "get_weather" and block.input == {"city": "Paris"}
    sent = scripted.last()
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": WEATHER_TOOL["input_schema"],
                "description": "Weather in a city",
            },
        }
    ]
    assert sent["tool_choice"] == "required" and sent["parallel_tool_calls"] is False


def test_tool_results_become_tool_messages(gw: GatewayServer, scripted: ScriptedUpstream) -> None:
    scripted.scripts = [Script({"role": "assistant", "content": "It is sunny."})]
    msg = client(gw).messages.create(
        model="scripted",
        max_tokens=50,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "call_abc", "name": "get_weather",
                     "input": {"city": "Paris"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_abc",
                     "content": [{"type": "text", "text": "sunny, 21C"}]},
                    {"type": "text", "text": "Thanks"},
                ],
            },
        ],
    )  # fmt: skip
    assert msg.content[0].text == "It is sunny." and msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens == 11 and msg.usage.output_tokens == 7
    sent = scripted.last()["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "call_abc",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    assert sent[2] == {"role": "tool", "content": "sunny, 21C", "tool_call_id": "call_abc"}
    assert sent[3] == {"role": "user", "content": [{"type": "text", "text": "Thanks"}]}


def test_streamed_tool_use(gw: GatewayServer, scripted: ScriptedUpstream) -> None:
    second = {
        **CALL,
        "id": "call_def",
        "function": {**CALL["function"], "arguments": '{"city": "Rome"}'},
    }
    message = {"role": "assistant", "content": "Checking both.", "tool_calls": [CALL, second]}
    scripted.scripts = [Script(message, "tool_calls")]
    with client(gw).messages.stream(
        model="scripted",
        max_tokens=50,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Weather in Paris and Rome?"}],
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text", "tool_use", "tool_use"]
    assert final.content[0].text == "Checking both."
    assert [b.input for b in final.content[1:]] == [{"city": "Paris"}, {"city": "Rome"}]
    assert [b.id for b in final.content[1:]] == ["call_abc", "call_def"]
    assert final.stop_reason == "tool_use" and final.usage.output_tokens == 7


def test_images_reach_the_upstream_as_image_parts(
    gw: GatewayServer, mock_upstream: MockUpstream
) -> None:
    image = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
    client(gw).messages.create(
        model="mock",
        max_tokens=20,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": image},
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    parts = mock_upstream.last_request()["body"]["messages"][0]["content"]
    assert parts == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        {"type": "text", "text": "What is this?"},
    ]


def test_count_tokens(gw: GatewayServer) -> None:
    c = client(gw)
    short = c.messages.count_tokens(model="mock", messages=[{"role": "user", "content": "hi"}])
    long = c.messages.count_tokens(
        model="mock", system="be brief", messages=[{"role": "user", "content": "hi " * 200}]
    )
    assert 0 < short.input_tokens < long.input_tokens
    with pytest.raises(anthropic.NotFoundError):
        c.messages.count_tokens(model="nope", messages=[{"role": "user", "content": "hi"}])


def test_errors_use_anthropics_envelope(gw: GatewayServer) -> None:
    c = client(gw)
    with pytest.raises(anthropic.NotFoundError) as missing:
        c.messages.create(model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert missing.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": missing.value.body["error"]["message"]},
    }
    with pytest.raises(anthropic.RateLimitError):
        c.messages.create(
            model="mock-429", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    bad = httpx.post(f"{gw.url}/messages", json={"model": "mock", "messages": []}, timeout=10)
    assert bad.status_code == 400
    assert bad.json()["type"] == "error"
    assert bad.json()["error"]["type"] == "invalid_request_error"


def test_server_tools_are_refused(gw: GatewayServer) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        client(gw).messages.create(
            model="mock",
            max_tokens=5,
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
            messages=[{"role": "user", "content": "x"}],
        )
    assert "web_search_20250305" in str(refused.value)


def test_an_error_mid_stream_is_an_error_event(gw: GatewayServer) -> None:
    with pytest.raises(anthropic.APIStatusError) as broken:
        with client(gw).messages.stream(
            model="mock-cut", max_tokens=50, messages=[{"role": "user", "content": "Say hello"}]
        ) as stream:
            for _ in stream.text_stream:
                pass
    assert broken.value.body["type"] == "error"  # type: ignore[index]


@pytest.fixture(scope="module")
def keyed(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    folder: Path = tmp_path_factory.mktemp("anthropic-keys")
    settings = Settings(
        catalogue=mock_catalogue(mock_upstream),
        master_key=MASTER,
        database_url=f"sqlite:///{folder / 'keys.db'}",
    )
    with run_gateway(background, settings) as server:
        yield server


def test_x_api_key_is_the_key(keyed: GatewayServer) -> None:
    created = httpx.post(
        f"{keyed.base}/admin/keys",
        json={"name": "sdk", "tenant": "t"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    key = created.json()["key"]
    msg = client(keyed, key).messages.create(
        model="mock", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
    )
    assert msg.usage.output_tokens == 5
    with pytest.raises(anthropic.AuthenticationError) as denied:
        client(keyed, "sk-wrong").messages.create(
            model="mock", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    assert denied.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_output_config_system_blocks_and_thinking_history(
    gw: GatewayServer, mock_upstream: MockUpstream
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    client(gw).messages.create(
        model="mock",
        max_tokens=20,
        system=[{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}],
        output_config={"format": {"type": "json_schema", "schema": schema}, "effort": "max"},
        metadata={"user_id": "u-1"},
        messages=[
            {"role": "user", "content": "one"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "text", "text": "two"},
                ],
            },
            {"role": "user", "content": "three"},
        ],
    )
    sent = mock_upstream.last_request()["body"]
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema},
    }
    assert sent["reasoning_effort"] == "high" and sent["user"] == "u-1"
    assert sent["messages"] == [
        {
            "role": "system",
            "content": [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}],
        },
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"},
    ]


def test_reasoning_content_becomes_a_thinking_block(
    gw: GatewayServer, scripted: ScriptedUpstream
) -> None:
    message = {"role": "assistant", "content": "42.", "reasoning_content": "Six times seven."}
    scripted.scripts = [Script(message)]
    ask = {"model": "scripted", "max_tokens": 50}
    plain = client(gw).messages.create(**ask, messages=[{"role": "user", "content": "6*7?"}])  # type: ignore[call-overload]
    with client(gw).messages.stream(**ask, messages=[{"role": "user", "content": "6*7?"}]) as s:  # type: ignore[arg-type]
        streamed = s.get_final_message()
    for msg in (plain, streamed):
        assert [b.type for b in msg.content] == ["thinking", "text"]
        assert msg.content[0].thinking == "Six times seven."  # type: ignore[union-attr]
        assert msg.content[1].text == "42."  # type: ignore[union-attr]


def test_a_refusal_is_text_with_the_refusal_stop_reason(
    gw: GatewayServer, scripted: ScriptedUpstream
) -> None:
    scripted.scripts = [Script({"role": "assistant", "content": None, "refusal": "I can't."})]
    ask = {"model": "scripted", "max_tokens": 50}
    plain = client(gw).messages.create(**ask, messages=[{"role": "user", "content": "x"}])  # type: ignore[call-overload]
    with client(gw).messages.stream(**ask, messages=[{"role": "user", "content": "x"}]) as s:  # type: ignore[arg-type]
        streamed = s.get_final_message()
    for msg in (plain, streamed):
        assert [(b.type, b.text) for b in msg.content] == [("text", "I can't.")]  # type: ignore[union-attr]
        assert msg.stop_reason == "refusal"
