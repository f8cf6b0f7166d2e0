"""The OpenAI-wire libraries in front of the Anthropic and Bedrock stand-ins, for what those
providers map: thinking (as `reasoning_content`, where the library keeps it), text, the tool
call, `finish_reason: tool_calls` and the cached prompt tokens, plain and streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import litellm
import orjson
import pytest
from langchain_openai import ChatOpenAI
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai_like import OpenAILike
from pydantic_ai.direct import model_request_stream_sync, model_request_sync
from pydantic_ai.messages import ModelRequest, TextPart, ThinkingPart, ToolCallPart
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from switchboard.testing.harness import BackgroundLoop, GatewayServer
from tests.clients.translated import ARGUMENTS, PROVIDERS, TEXT, THOUGHT, Upstreams, translated

ASK = "Weather in Paris?"
CASES = [(p, s) for p in PROVIDERS for s in (False, True)]
IDS = [f"{p}-{'streamed' if s else 'plain'}" for p, s in CASES]


@pytest.fixture(scope="module")
def stand_ins(background: BackgroundLoop) -> Iterator[tuple[Upstreams, GatewayServer]]:
    with translated(background) as both:
        yield both


@pytest.fixture(params=CASES, ids=IDS)
def case(
    request: pytest.FixtureRequest, stand_ins: tuple[Upstreams, GatewayServer]
) -> tuple[str, bool, str]:
    """(model, streamed, gateway URL), with the stand-in's recorded reply queued."""
    provider, streamed = request.param
    upstreams, gw = stand_ins
    upstreams.anthropic.replies.clear()  # what an earlier failed test left
    upstreams.bedrock.replies.clear()
    upstreams.queue(provider, stream=streamed)
    return provider, streamed, gw.url


def test_litellm(case: tuple[str, bool, str]) -> None:
    provider, streamed, url = case
    messages = [{"role": "user", "content": ASK}]
    kw: dict[str, Any] = {"api_base": url, "api_key": "x", "messages": messages}
    if streamed:
        kw |= {"stream": True, "stream_options": {"include_usage": True}}
    reply = litellm.completion(model=f"openai/{provider}", **kw)
    if streamed:
        reply = litellm.stream_chunk_builder(list(reply))
    choice = reply.choices[0]  # type: ignore[union-attr]
    assert choice.message.reasoning_content == THOUGHT and choice.message.content == TEXT
    [call] = choice.message.tool_calls
    assert orjson.loads(call.function.arguments) == ARGUMENTS[provider]
    assert choice.finish_reason == "tool_calls"
    assert reply.usage.prompt_tokens_details.cached_tokens == 1500  # type: ignore[union-attr]


def test_langchain(case: tuple[str, bool, str]) -> None:
    provider, streamed, url = case
    llm = ChatOpenAI(model=provider, base_url=url, api_key="x", max_retries=0, stream_usage=True)
    if streamed:
        chunks = list(llm.stream(ASK))
        message = chunks[0]
        for chunk in chunks[1:]:
            message += chunk
    else:
        message = llm.invoke(ASK)
    assert message.content == TEXT  # langchain keeps no reasoning_content
    [call] = message.tool_calls  # type: ignore[attr-defined]
    assert call["args"] == ARGUMENTS[provider]
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.usage_metadata["input_token_details"]["cache_read"] == 1500  # type: ignore[attr-defined]


def test_llama_index(case: tuple[str, bool, str]) -> None:
    provider, streamed, url = case
    llm = OpenAILike(
        model=provider, api_base=url, api_key="x", is_chat_model=True, max_retries=0
    )  # OpenAILike: llama-index's OpenAI LLM takes only OpenAI's model names
    ask = [ChatMessage(role="user", content=ASK)]
    reply = list(llm.stream_chat(ask))[-1] if streamed else llm.chat(ask)
    blocks = {b.block_type: b for b in reply.message.blocks}
    assert blocks["thinking"].content == THOUGHT and blocks["text"].text == TEXT
    kwargs = blocks["tool_call"].tool_kwargs
    assert (orjson.loads(kwargs) if isinstance(kwargs, str) else kwargs) == ARGUMENTS[provider]
    if not streamed:
        assert reply.raw.choices[0].finish_reason == "tool_calls"
        assert reply.raw.usage.prompt_tokens_details.cached_tokens == 1500


def test_pydantic_ai(case: tuple[str, bool, str]) -> None:
    provider, streamed, url = case
    model = OpenAIChatModel(provider, provider=OpenAIProvider(base_url=url, api_key="x"))
    ask = [ModelRequest.user_text_prompt(ASK)]
    if streamed:
        with model_request_stream_sync(model, ask) as stream:
            list(stream)
            response = stream.response
    else:
        response = model_request_sync(model, ask)
    thinking, text, call = response.parts
    assert isinstance(thinking, ThinkingPart) and thinking.content == THOUGHT
    assert isinstance(text, TextPart) and text.content == TEXT
    assert isinstance(call, ToolCallPart) and call.args_as_dict() == ARGUMENTS[provider]
    assert response.finish_reason == "tool_call"
    assert response.usage.cache_read_tokens == 1500
