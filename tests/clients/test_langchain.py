"""langchain-openai's ChatOpenAI through Switchboard: each field it shows (content, tool calls,
`refusal` and legacy `function_call` in additional_kwargs; logprobs, system_fingerprint,
service_tier, finish_reason and the usage details in response_metadata / usage_metadata) is
what it shows pointed straight at the upstream. It keeps neither `reasoning_content` nor
`annotations` of a chat completion, with or without the gateway."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from tests.api.fidelity_upstream import TOOL_CALLS
from tests.clients.conftest import MODEL
from tests.clients.upstream import STRUCTURED, ClientsUpstream

SCENARIOS = ["everything", "refusal", "function_call", "tool_calls"]


class Weather(BaseModel):
    city: str
    temperature_c: int


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def chat(url: str, **kw: Any) -> ChatOpenAI:
    return ChatOpenAI(model=MODEL, base_url=url, api_key="x", max_retries=0, timeout=10, **kw)


def seen(message: BaseMessage) -> dict[str, Any]:
    """What the user gets, less the id langchain makes up for each run."""
    return message.model_dump(exclude={"id"})


def both(urls: tuple[str, str], ask: Any) -> tuple[Any, Any]:
    return ask(urls[0]), ask(urls[1])


def check_everything(message: BaseMessage, streamed: bool) -> None:
    meta = message.response_metadata
    assert message.content == "Hi"
    assert meta["logprobs"]["content"][0]["logprob"] == -0.25
    assert meta["system_fingerprint"] == "fp_0123abcd" and meta["service_tier"] == "default"
    assert meta["finish_reason"] == "stop" and meta["model_name"] == MODEL
    usage = message.usage_metadata  # type: ignore[attr-defined]
    assert usage["input_token_details"]["cache_read"] == 8
    assert usage["output_token_details"]["reasoning"] == 3
    if not streamed:
        assert meta["token_usage"]["completion_tokens_details"]["rejected_prediction_tokens"] == 1
        assert meta["id"] == "chatcmpl-upstream-1"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_plain(urls: tuple[str, str], scenario: str) -> None:
    direct, via = both(urls, lambda url: chat(url).invoke(scenario))
    assert seen(via) == seen(direct)
    if scenario == "everything":
        check_everything(via, streamed=False)
    elif scenario == "refusal":
        assert via.additional_kwargs["refusal"] == "I can't help with that."
    elif scenario == "function_call":
        assert via.additional_kwargs["function_call"] == TOOL_CALLS[0]["function"]
    else:
        check_tool_calls(via)


def check_tool_calls(message: Any) -> None:
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": c}, "id": f"call_{c.lower()}", "type": "tool_call"}
        for c in ("Paris", "Rome")
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"


def streamed(url: str, scenario: str) -> tuple[list[dict[str, Any]], Any]:
    chunks = list(chat(url, stream_usage=True).stream(scenario))
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return [seen(c) for c in chunks], total


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_streamed(urls: tuple[str, str], scenario: str) -> None:
    (direct, _), (via, total) = both(urls, lambda url: streamed(url, scenario))
    assert via == direct
    if scenario == "everything":
        check_everything(total, streamed=True)
    elif scenario == "refusal":  # langchain keeps a streamed refusal nowhere
        assert total.content == "" and total.response_metadata["finish_reason"] == "stop"
    elif scenario == "function_call":
        assert total.additional_kwargs["function_call"] == TOOL_CALLS[0]["function"]
    else:
        check_tool_calls(total)


async def test_async(urls: tuple[str, str]) -> None:
    direct = await chat(urls[0]).ainvoke("everything")
    via = await chat(urls[1]).ainvoke("everything")
    assert seen(via) == seen(direct)
    check_everything(via, streamed=False)
    chunks = [seen(c) async for c in chat(urls[1], stream_usage=True).astream("tool_calls")]
    assert chunks == [seen(c) async for c in chat(urls[0], stream_usage=True).astream("tool_calls")]


def test_n_choices(urls: tuple[str, str], upstream: ClientsUpstream) -> None:
    direct, via = both(urls, lambda url: chat(url, n=3).generate([[HumanMessage("everything")]]))
    assert upstream.asked_alike() and upstream.received[-1]["n"] == 3
    [choices] = via.generations
    assert [g.message.content for g in choices] == ["Hi"] * 3
    assert [seen(g.message) for g in choices] == [seen(g.message) for g in direct.generations[0]]
    assert via.llm_output == direct.llm_output


def test_bound_tools_and_structured_output(
    urls: tuple[str, str], upstream: ClientsUpstream
) -> None:
    direct, via = both(urls, lambda url: chat(url).bind_tools([get_weather]).invoke("tool_calls"))
    assert upstream.asked_alike() and upstream.received[-1]["tools"]
    assert seen(via) == seen(direct)
    check_tool_calls(via)
    for method in ("json_schema", "function_calling", "json_mode"):
        out = chat(urls[1]).with_structured_output(Weather, method=method).invoke("structured")
        assert out == Weather(**STRUCTURED), method
