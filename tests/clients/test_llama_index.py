"""llama-index through Switchboard: `OpenAILike` (its default, `/v1/completions`, which the
gateway translates to chat) and the `OpenAI` chat LLM show what they show pointed straight at
the upstream: text, thinking blocks (`reasoning_content`), tool calls, and everything else in
`raw` (the openai SDK's object: logprobs, annotations, refusal, `function_call`,
`service_tier`, `system_fingerprint`, usage details)."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI
from llama_index.llms.openai_like import OpenAILike

from tests.api.fidelity_upstream import PLAIN, TOOL_CALLS
from tests.clients.conftest import MODEL

EVERYTHING = PLAIN["everything"]["choices"][0]
SCENARIOS = ["everything", "refusal", "function_call", "tool_calls"]


def like(url: str) -> OpenAILike:
    return OpenAILike(model=MODEL, api_base=url, api_key="x", max_retries=0, timeout=10)


def chat_llm(url: str) -> OpenAI:
    return OpenAI(model=MODEL, api_base=url, api_key="x", max_retries=0, timeout=10)


def seen(response: Any) -> dict[str, Any]:
    """The response as the user gets it, its `raw` SDK object included, field by field."""
    raw = response.raw
    return {**response.model_dump(exclude={"raw"}), "raw": raw.model_dump() if raw else raw}


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_completion(urls: tuple[str, str]) -> None:
    direct, via = (seen(like(url).complete("everything")) for url in urls)
    assert via == direct
    assert via["text"] == "Hi"
    assert via["raw"]["system_fingerprint"] == "fp_0123abcd"
    assert via["raw"]["usage"]["prompt_tokens_details"]["cached_tokens"] == 8
    assert via["raw"]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3


def test_completion_streamed(urls: tuple[str, str]) -> None:
    direct, via = ([seen(r) for r in like(url).stream_complete("everything")] for url in urls)
    assert via == direct
    assert via[-1]["text"] == "Hi"
    assert {r["raw"]["system_fingerprint"] for r in via} == {"fp_0123abcd"}


async def test_completion_async(urls: tuple[str, str]) -> None:
    got = []
    for url in urls:
        reply = await like(url).acomplete("everything")
        stream = await like(url).astream_complete("everything")
        got.append((seen(reply), [seen(r) async for r in stream]))
    assert got[1] == got[0]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chat(urls: tuple[str, str], scenario: str) -> None:
    ask = [ChatMessage(role="user", content=scenario)]
    direct, via = (seen(chat_llm(url).chat(ask)) for url in urls)
    assert via == direct
    raw = via["raw"]
    if scenario == "everything":
        thinking, text = via["message"]["blocks"]
        assert thinking["content"] == EVERYTHING["message"]["reasoning_content"]
        assert text["text"] == "Hi"
        assert raw["choices"][0]["logprobs"] == EVERYTHING["logprobs"]
        assert raw["choices"][0]["message"]["annotations"] == EVERYTHING["message"]["annotations"]
        assert raw["service_tier"] == "default" and raw["system_fingerprint"] == "fp_0123abcd"
        assert raw["usage"]["prompt_tokens_details"]["cached_tokens"] == 8
        assert raw["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    elif scenario == "refusal":
        assert raw["choices"][0]["message"]["refusal"] == "I can't help with that."
    elif scenario == "function_call":
        assert raw["choices"][0]["message"]["function_call"] == TOOL_CALLS[0]["function"]
    else:
        calls = [c for c in via["message"]["blocks"] if c["block_type"] == "tool_call"]
        assert [(c["tool_call_id"], c["tool_kwargs"]) for c in calls] == [
            (t["id"], t["function"]["arguments"]) for t in TOOL_CALLS
        ]


@pytest.mark.parametrize("scenario", ["everything", "tool_calls"])
def test_chat_streamed(urls: tuple[str, str], scenario: str) -> None:
    ask = [ChatMessage(role="user", content=scenario)]
    direct, via = ([seen(r) for r in chat_llm(url).stream_chat(ask)] for url in urls)
    assert via == direct
    if scenario == "everything":
        assert "".join(r["delta"] or "" for r in via) == "Hi"
        assert {r["raw"]["service_tier"] for r in via} == {"default"}
    else:
        kwargs = [c["tool_kwargs"] for c in via[-1]["message"]["blocks"] if "tool_kwargs" in c]
        assert kwargs == [t["function"]["arguments"] for t in TOOL_CALLS]


async def test_chat_async_and_tools(urls: tuple[str, str]) -> None:
    tool = FunctionTool.from_defaults(fn=get_weather)
    got = []
    for url in urls:
        llm = chat_llm(url)
        reply = await llm.achat_with_tools(
            [tool], user_msg="tool_calls", allow_parallel_tool_calls=True
        )
        stream = await llm.astream_chat([ChatMessage(role="user", content="everything")])
        got.append((seen(reply), [seen(r) async for r in stream]))
        calls = llm.get_tool_calls_from_response(reply, error_on_no_tool_call=True)
        assert [(c.tool_id, c.tool_kwargs) for c in calls] == [
            ("call_paris", {"city": "Paris"}),
            ("call_rome", {"city": "Rome"}),
        ]
    assert got[1] == got[0]
