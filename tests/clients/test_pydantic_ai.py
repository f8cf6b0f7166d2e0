"""pydantic-ai through Switchboard. `OpenAIChatModel`: every message of a run (thinking from
`reasoning_content`, text with its citations from `annotations`, tool calls; logprobs,
`service_tier` and the finish reason in `provider_details`; cache reads and reasoning tokens
in usage) equals the run straight against the upstream, plain, streamed, with tools and with
structured output (a tool, or `response_format`). `OpenAIResponsesModel` goes through the
gateway's Responses translation, which has no upstream to compare with: each field is checked."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput, ToolOutput
from pydantic_ai.direct import model_request_sync
from pydantic_ai.messages import ModelMessage, ModelRequest, TextPart, ThinkingPart, ToolCallPart
from pydantic_ai.models.openai import (
    OpenAIChatModel,
    OpenAIResponsesModel,
    OpenAIResponsesModelSettings,
)
from pydantic_ai.providers.openai import OpenAIProvider

from switchboard.testing.harness import GatewayServer
from tests.api.fidelity_upstream import PLAIN, TOOL_CALLS
from tests.clients.conftest import MODEL
from tests.clients.upstream import STRUCTURED, ClientsUpstream

EVERYTHING = PLAIN["everything"]["choices"][0]
THOUGHT = EVERYTHING["message"]["reasoning_content"]
_VOLATILE = {"timestamp", "run_id", "conversation_id", "provider_url"}  # the run's own


class Weather(BaseModel):
    city: str
    temperature_c: int


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def chat_model(url: str) -> OpenAIChatModel:
    return OpenAIChatModel(MODEL, provider=OpenAIProvider(base_url=url, api_key="x"))


def responses_model(url: str) -> OpenAIResponsesModel:
    return OpenAIResponsesModel(MODEL, provider=OpenAIProvider(base_url=url, api_key="x"))


def seen(messages: list[ModelMessage]) -> list[dict[str, Any]]:
    """The run's messages, field by field, less what the run stamps itself (times, ids)."""
    out = []
    for message in messages:
        fields = {k: v for k, v in dataclasses.asdict(message).items() if k not in _VOLATILE}
        fields["parts"] = [
            {k: v for k, v in p.items() if k != "timestamp"} for p in fields["parts"]
        ]
        out.append(fields)
    return out


def check_everything(message: Any, streamed: bool) -> None:
    thinking, text = message.parts
    assert isinstance(thinking, ThinkingPart) and thinking.content == THOUGHT
    assert isinstance(text, TextPart) and text.content == "Hi"
    if not streamed:  # pydantic-ai keeps a streamed annotation nowhere
        assert text.provider_details == {"citations": EVERYTHING["message"]["annotations"]}
    details = message.provider_details
    assert details["logprobs"] == EVERYTHING["logprobs"]["content"]
    assert details["service_tier"] == "default" and details["finish_reason"] == "stop"
    assert message.usage.cache_read_tokens == 8 and message.usage.output_reasoning_tokens == 3


def test_chat_plain(urls: tuple[str, str]) -> None:
    direct, via = (Agent(chat_model(url)).run_sync("everything") for url in urls)
    assert seen(via.all_messages()) == seen(direct.all_messages())
    assert via.output == "Hi"
    check_everything(via.all_messages()[-1], streamed=False)


async def test_chat_streamed(urls: tuple[str, str]) -> None:
    runs = []
    for url in urls:
        async with Agent(chat_model(url)).run_stream("everything") as run:
            deltas = [d async for d in run.stream_text(delta=True)]
        runs.append((deltas, seen(run.all_messages())))
        last = run.all_messages()[-1]
    assert runs[1] == runs[0]
    assert "".join(runs[1][0]) == "Hi"
    check_everything(last, streamed=True)


@pytest.mark.parametrize("scenario", ["refusal", "function_call"])
def test_chat_refusal_and_function_call(urls: tuple[str, str], scenario: str) -> None:
    ask = [ModelRequest.user_text_prompt(scenario)]
    direct, via = (model_request_sync(chat_model(url), ask) for url in urls)
    assert seen([via]) == seen([direct])
    if scenario == "refusal":
        assert via.provider_details["refusal"] == "I can't help with that."  # type: ignore[index]
        assert via.finish_reason == "content_filter"
    else:  # pydantic-ai keeps no legacy function call, only its finish reason
        assert via.parts == [] and via.provider_details["finish_reason"] == "function_call"  # type: ignore[index]


def test_chat_tools(urls: tuple[str, str]) -> None:
    runs = [Agent(chat_model(url), tools=[get_weather]).run_sync("tool_calls") for url in urls]
    assert seen(runs[1].all_messages()) == seen(runs[0].all_messages())
    calls = [p for p in runs[1].all_messages()[1].parts if isinstance(p, ToolCallPart)]
    assert [(c.tool_call_id, c.args) for c in calls] == [
        (t["id"], t["function"]["arguments"]) for t in TOOL_CALLS
    ]
    assert runs[1].output == "Hi"  # the answer after the tool results went back


@pytest.mark.parametrize("native", [False, True], ids=["tool", "response_format"])
def test_chat_structured(urls: tuple[str, str], upstream: ClientsUpstream, native: bool) -> None:
    output: Any = NativeOutput(Weather) if native else ToolOutput(Weather)
    runs = [Agent(chat_model(url), output_type=output).run_sync("structured") for url in urls]
    assert seen(runs[1].all_messages()) == seen(runs[0].all_messages())
    assert runs[1].output == Weather(**STRUCTURED)
    assert upstream.asked_alike()
    kind = "response_format" if native else "tools"
    assert upstream.received[-1][kind]


def test_responses_plain(gw: GatewayServer, upstream: ClientsUpstream) -> None:
    settings = OpenAIResponsesModelSettings(openai_logprobs=True, openai_top_logprobs=1)
    run = Agent(responses_model(gw.url), model_settings=settings).run_sync("everything")
    assert upstream.received[-1]["logprobs"] is True and upstream.received[-1]["top_logprobs"] == 1
    thinking, text = run.all_messages()[-1].parts
    assert isinstance(thinking, ThinkingPart)  # reasoning text, no summary: its raw content
    assert thinking.provider_details == {"raw_content": [THOUGHT]}
    assert isinstance(text, TextPart) and text.content == "Hi"
    [note] = EVERYTHING["message"]["annotations"]
    assert text.provider_details == {
        "citations": [{"type": "url_citation", **note["url_citation"]}],
        "logprobs": EVERYTHING["logprobs"]["content"],
    }
    message = run.all_messages()[-1]
    assert message.provider_details["service_tier"] == "default"
    assert message.usage.cache_read_tokens == 8 and message.usage.output_reasoning_tokens == 3


async def test_responses_streamed_and_structured(gw: GatewayServer) -> None:
    async with Agent(responses_model(gw.url)).run_stream("everything") as run:
        assert "".join([d async for d in run.stream_text(delta=True)]) == "Hi"
    message = run.all_messages()[-1]
    assert message.provider_details["service_tier"] == "default"
    assert message.usage.cache_read_tokens == 8 and message.usage.output_reasoning_tokens == 3
    thinking = message.parts[0]
    assert isinstance(thinking, ThinkingPart)
    assert thinking.provider_details == {"raw_content": [THOUGHT]}
    for output in (ToolOutput(Weather), NativeOutput(Weather)):
        agent = Agent(responses_model(gw.url), output_type=output)
        assert (await agent.run("structured")).output == Weather(**STRUCTURED)
    tools = await Agent(responses_model(gw.url), tools=[get_weather]).run("tool_calls")
    calls = [p for p in tools.all_messages()[1].parts if isinstance(p, ToolCallPart)]
    assert [(c.tool_call_id, c.args) for c in calls] == [
        (t["id"], t["function"]["arguments"]) for t in TOOL_CALLS
    ]
