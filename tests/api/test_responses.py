"""`client.responses` of the openai SDK against a real gateway: the Responses API translated to
chat completions (the mock, and a scripted upstream answering with tool calls), stored
responses scoped to the key, on the in-process store and on Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis

from switchboard.api.responses_routes import owner_of
from switchboard.config import Settings
from switchboard.domain import ChatRequest
from switchboard.keys.models import ApiKey
from switchboard.pipeline.context import open_context
from switchboard.testing.harness import BackgroundLoop, GatewayServer, MockUpstream, run_gateway
from switchboard.testing.services import redis_url, require_or_skip
from tests.api.scripted_upstream import Script, ScriptedUpstream
from tests.conftest import SECRET, fault_model, mock_catalogue

MASTER = "sk-master-responses-0123456789"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
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


def catalogue_settings(up: MockUpstream, scripted: ScriptedUpstream, **kw: Any) -> Settings:
    deployment = {"provider": "openai", "model": "gpt-x", "name": "scripted-a"}
    extra = [
        {
            "name": "scripted",
            "deployments": [{**deployment, "api_base": scripted.url, "api_key": SECRET}],
        },
        fault_model(up, "mock-cut", {"x-mock-cut-after": "3"}),
    ]
    return Settings(catalogue=mock_catalogue(up, extra), **kw)


@pytest.fixture(scope="module")
def gw(
    background: BackgroundLoop, mock_upstream: MockUpstream, scripted: ScriptedUpstream
) -> Iterator[GatewayServer]:
    with run_gateway(background, catalogue_settings(mock_upstream, scripted)) as server:
        yield server


def client(gw: GatewayServer, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key=key, max_retries=0, timeout=10)


def test_response_plain(gw: GatewayServer, mock_upstream: MockUpstream) -> None:
    raw = client(gw).responses.with_raw_response.create(
        model="mock", instructions="be brief", input="Say hello", temperature=0.4
    )
    resp = raw.parse()
    assert resp.object == "response" and resp.status == "completed" and resp.model == "mock"
    assert resp.id.startswith("resp_")
    assert len(resp.output_text.split()) == 8
    [item] = resp.output
    assert item.type == "message" and item.role == "assistant" and item.status == "completed"
    assert resp.usage is not None and resp.usage.output_tokens == 8
    assert resp.usage.total_tokens == resp.usage.input_tokens + 8
    assert resp.instructions == "be brief" and resp.temperature == 0.4
    assert raw.headers["x-switchboard-deployment"] == "mock-a"
    sent = mock_upstream.last_request()["body"]
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "Say hello"},
    ]
    assert sent["temperature"] == 0.4


def test_max_output_tokens_makes_it_incomplete(gw: GatewayServer) -> None:
    resp = client(gw).responses.create(model="mock", input="hi", max_output_tokens=3)
    assert resp.status == "incomplete"
    assert resp.incomplete_details is not None
    assert resp.incomplete_details.reason == "max_output_tokens"
    assert resp.usage is not None and resp.usage.output_tokens == 3


def test_response_stream(gw: GatewayServer) -> None:
    with client(gw).responses.stream(model="mock", input="Say hello") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len("".join(deltas).split()) == 8
    assert final.output_text == "".join(deltas) and final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens == 8


def test_stream_event_order(gw: GatewayServer) -> None:
    events = list(client(gw).responses.create(model="mock", input="hi", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert len({e.response.id for e in events if hasattr(e, "response")}) == 1


def test_function_calls_and_their_outputs(gw: GatewayServer, scripted: ScriptedUpstream) -> None:
    scripted.scripts = [
        Script({"role": "assistant", "content": None, "tool_calls": [CALL]}, "tool_calls")
    ]
    c = client(gw)
    first = c.responses.create(
        model="scripted", input="Weather in Paris?", tools=[WEATHER], tool_choice="required"
    )
    [call] = first.output
    assert call.type == "function_call" and call.call_id == "call_abc"
    assert call.name == "get_weather" and call.arguments == '{"city": "Paris"}'
    sent = scripted.last()
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": WEATHER["parameters"],
            },
        }
    ]
    assert sent["tool_choice"] == "required"
    scripted.scripts = [Script({"role": "assistant", "content": "Sunny."})]
    second = c.responses.create(
        model="scripted",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": "call_abc", "output": "sunny"}],
        tools=[WEATHER],
    )
    assert second.output_text == "Sunny." and second.previous_response_id == first.id
    assert scripted.last()["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "content": "sunny", "tool_call_id": "call_abc"},
    ]


def test_streamed_function_calls(gw: GatewayServer, scripted: ScriptedUpstream) -> None:
    second = {**CALL, "id": "call_def", "function": {**CALL["function"], "arguments": "{}"}}
    message = {"role": "assistant", "content": "Checking.", "tool_calls": [CALL, second]}
    scripted.scripts = [Script(message, "tool_calls")]
    with client(gw).responses.stream(model="scripted", input="x", tools=[WEATHER]) as stream:
        final = stream.get_final_response()
    assert [i.type for i in final.output] == ["message", "function_call", "function_call"]
    assert final.output_text == "Checking."
    calls = [i for i in final.output if i.type == "function_call"]
    assert [(i.call_id, i.arguments) for i in calls] == [
        ("call_abc", '{"city": "Paris"}'),
        ("call_def", "{}"),
    ]


def test_reasoning_content_becomes_a_reasoning_item(
    gw: GatewayServer, scripted: ScriptedUpstream
) -> None:
    message = {"role": "assistant", "content": "42.", "reasoning_content": "Six times seven."}
    scripted.scripts = [Script(message)]
    c = client(gw)
    plain = c.responses.create(model="scripted", input="6*7?")
    with c.responses.stream(model="scripted", input="6*7?") as stream:
        kinds = [e.type for e in stream]
        streamed = stream.get_final_response()
    assert "response.reasoning_text.delta" in kinds
    for resp in (plain, streamed):
        assert [i.type for i in resp.output] == ["reasoning", "message"]
        reasoning = resp.output[0]
        assert reasoning.type == "reasoning" and reasoning.content is not None
        assert reasoning.content[0].text == "Six times seven."
        assert resp.output_text == "42."


def test_a_refusal_is_a_refusal_part(gw: GatewayServer, scripted: ScriptedUpstream) -> None:
    scripted.scripts = [Script({"role": "assistant", "content": None, "refusal": "I can't."})]
    c = client(gw)
    plain = c.responses.create(model="scripted", input="x")
    with c.responses.stream(model="scripted", input="x") as stream:
        kinds = [e.type for e in stream]
        streamed = stream.get_final_response()
    assert "response.refusal.delta" in kinds and "response.refusal.done" in kinds
    for resp in (plain, streamed):
        [item] = resp.output
        assert item.type == "message"
        assert [(p.type, getattr(p, "refusal", None)) for p in item.content] == [
            ("refusal", "I can't.")
        ]


def test_input_items_become_chat_messages(gw: GatewayServer, mock_upstream: MockUpstream) -> None:
    client(gw).responses.create(
        model="mock",
        input=[
            {"role": "developer", "content": "rules"},
            {"role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "low"},
            ]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "a cat"}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"role": "user", "content": "thanks"},
        ],
        text={"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}}},
        reasoning={"effort": "low"},
    )  # fmt: skip
    sent = mock_upstream.last_request()["body"]
    assert sent["messages"] == [
        {"role": "developer", "content": "rules"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://x.test/a.png", "detail": "low"},
                },
            ],
        },
        {"role": "assistant", "content": "a cat"},
        {"role": "user", "content": "thanks"},
    ]
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "out", "schema": {"type": "object"}},
    }
    assert sent["reasoning_effort"] == "low"


def test_store_retrieve_delete(gw: GatewayServer) -> None:
    c = client(gw)
    created = c.responses.create(model="mock", input="remember me")
    fetched = c.responses.retrieve(created.id)
    assert fetched.model_dump() == created.model_dump()
    c.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.delete(created.id)
    unstored = c.responses.create(model="mock", input="forget me", store=False)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(unstored.id)


def test_a_streamed_response_is_stored_before_it_completes(gw: GatewayServer) -> None:
    c = client(gw)
    with c.responses.stream(model="mock", input="My name is Ada") as stream:
        final = stream.get_final_response()
    assert c.responses.retrieve(final.id).output_text == final.output_text


def test_previous_response_id_continues(gw: GatewayServer, mock_upstream: MockUpstream) -> None:
    c = client(gw)
    first = c.responses.create(model="mock", instructions="old rules", input="My name is Ada")
    second = c.responses.create(
        model="mock", instructions="new rules", previous_response_id=first.id, input="Who am I?"
    )
    assert mock_upstream.last_request()["body"]["messages"] == [
        {"role": "system", "content": "new rules"},  # instructions are not carried over
        {"role": "user", "content": "My name is Ada"},
        {"role": "assistant", "content": first.output_text},
        {"role": "user", "content": "Who am I?"},
    ]
    with c.responses.stream(model="mock", previous_response_id=second.id, input="Again?") as s:
        s.get_final_response()
    sent = mock_upstream.last_request()["body"]["messages"]
    assert [m["content"] for m in sent] == [
        "My name is Ada",
        first.output_text,
        "Who am I?",
        second.output_text,
        "Again?",
    ]
    with pytest.raises(openai.NotFoundError):
        c.responses.create(model="mock", previous_response_id="resp_nope", input="x")


def test_unsupported_features_are_refused(gw: GatewayServer) -> None:
    c = client(gw)
    with pytest.raises(openai.BadRequestError) as tool:
        c.responses.create(model="mock", input="x", tools=[{"type": "web_search"}])
    assert "web_search" in str(tool.value)
    with pytest.raises(openai.BadRequestError) as background:
        c.responses.create(model="mock", input="x", background=True)
    assert background.value.body["param"] == "background"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        c.responses.create(model="nope", input="x")


def test_an_error_mid_stream_fails_the_response(gw: GatewayServer) -> None:
    events = list(client(gw).responses.create(model="mock-cut", input="Say hello", stream=True))
    assert [e.type for e in events][-2:] == ["error", "response.failed"]
    failed = events[-1]
    assert failed.response.status == "failed" and failed.response.error is not None  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def keyed(
    background: BackgroundLoop,
    mock_upstream: MockUpstream,
    scripted: ScriptedUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayServer]:
    folder: Path = tmp_path_factory.mktemp("responses-keys")
    settings = catalogue_settings(
        mock_upstream,
        scripted,
        master_key=MASTER,
        database_url=f"sqlite:///{folder / 'keys.db'}",
    )
    with run_gateway(background, settings) as server:
        yield server


def new_key(gw: GatewayServer, name: str) -> str:
    created = httpx.post(
        f"{gw.base}/admin/keys",
        json={"name": name, "tenant": "t"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    return str(created.json()["key"])


def test_stored_responses_belong_to_their_key(keyed: GatewayServer) -> None:
    mine, theirs = client(keyed, new_key(keyed, "a")), client(keyed, new_key(keyed, "b"))
    created = mine.responses.create(model="mock", input="secret")
    assert mine.responses.retrieve(created.id).id == created.id
    with pytest.raises(openai.NotFoundError):
        theirs.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        theirs.responses.create(model="mock", previous_response_id=created.id, input="x")
    with pytest.raises(openai.NotFoundError):
        theirs.responses.delete(created.id)
    assert mine.responses.retrieve(created.id).id == created.id
    with pytest.raises(openai.AuthenticationError):
        client(keyed, "sk-wrong").responses.retrieve(created.id)


def test_owner_of_matches_the_request_context() -> None:
    """GET and DELETE find what a request context stored: both name the same owner."""
    chat = ChatRequest(model="mock", messages=[])
    assert owner_of(None) == open_context("responses", chat).owner
    key = ApiKey(
        "k1", "n", "t", "sk-abc", None, None, None, None, None, "total", None, None,
        datetime.now(UTC),
    )  # fmt: skip
    assert owner_of(key) == open_context("responses", chat, key=key).owner


@pytest.fixture(scope="module")
def on_redis(
    background: BackgroundLoop, mock_upstream: MockUpstream, scripted: ScriptedUpstream
) -> Iterator[GatewayServer]:
    url = redis_url()
    try:
        with redis.Redis.from_url(url, socket_timeout=2) as probe:
            probe.ping()
    except (OSError, redis.RedisError) as exc:
        require_or_skip(f"no Redis at {url}: {exc}")
    settings = catalogue_settings(
        mock_upstream, scripted, redis_url=url, redis_prefix="sbtest:responses:"
    )
    with run_gateway(background, settings) as server:
        yield server


def test_stored_on_redis_and_continued(on_redis: GatewayServer) -> None:
    c = client(on_redis)
    first = c.responses.create(model="mock", input="My name is Ada")
    assert c.responses.retrieve(first.id).output_text == first.output_text
    second = c.responses.create(model="mock", previous_response_id=first.id, input="Who?")
    assert second.previous_response_id == first.id
    c.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(first.id)
