"""The Responses passthrough's stream parser: each upstream event whole in one chunk, beside the
chat view the pipeline reads (first token, tool calls, finish, usage); failures raised."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from switchboard.catalogue import DeploymentConfig
from switchboard.domain import ChatRequest, Message, NativeBody
from switchboard.errors import ProviderError
from switchboard.providers.azure import AzureOpenAIAdapter
from switchboard.providers.base import SseEvent
from switchboard.providers.openai import OpenAIAdapter
from switchboard.providers.openai_responses import ResponsesStreamParser, parse_response

USAGE = {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 3,
         "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 12}  # fmt: skip


def parser() -> ResponsesStreamParser:
    return ResponsesStreamParser(
        "public", OpenAIAdapter(DeploymentConfig(provider="openai", model="m")).error
    )


def event(kind: str, **fields: Any) -> SseEvent:
    return SseEvent(kind, orjson.dumps({"type": kind, **fields}).decode())


def test_events_carry_text_tool_calls_finish_and_usage() -> None:
    p = parser()
    response = {"id": "resp_1", "created_at": 5, "status": "in_progress", "output": []}
    [created] = p.feed(event("response.created", response=response))
    assert created.choices == [] and created.native is not None and created.id == "resp_1"
    [text] = p.feed(event("response.output_text.delta", delta="Hi", x_odd=1))
    assert text.choices[0].content == "Hi" and text.native == {
        "type": "response.output_text.delta",
        "delta": "Hi",
        "x_odd": 1,
    }
    call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": ""}
    [added] = p.feed(event("response.output_item.added", output_index=1, item=call))
    assert added.choices[0].tool_calls == [
        {"index": 1, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}
    ]
    [args] = p.feed(event("response.function_call_arguments.delta", output_index=1, delta="{}"))
    assert args.choices[0].tool_calls == [{"index": 1, "function": {"arguments": "{}"}}]
    assert not p.done()
    final = {**response, "status": "completed", "output": [call], "usage": USAGE}
    [done] = p.feed(event("response.completed", response=final))
    assert done.choices[0].finish_reason == "tool_calls" and p.done() and p.finished()
    assert done.usage is not None
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (9, 3)
    assert (done.usage.cached_tokens, done.usage.reasoning_tokens) == (4, 2)
    assert p.feed(SseEvent("message", "[DONE]")) == []


def test_incomplete_is_length_and_failures_raise() -> None:
    p = parser()
    cut = {"id": "r", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    [chunk] = p.feed(event("response.incomplete", response=cut))
    assert chunk.choices[0].finish_reason == "length"
    with pytest.raises(ProviderError, match="overloaded"):
        parser().feed(event("error", code="server_error", message="overloaded"))
    failed = {"id": "r", "status": "failed", "error": {"code": "x", "message": "it broke"}}
    with pytest.raises(ProviderError, match="it broke") as caught:
        parser().feed(event("response.failed", response=failed))
    assert caught.value.retryable


def test_a_json_reply_is_kept_whole() -> None:
    body = {"model": "public", "input": "hi"}
    request = ChatRequest("public", [Message("user", "hi")], native=NativeBody("responses", body))
    message = {"type": "message", "content": [{"type": "output_text", "text": "Hello"}]}
    data = {"id": "r9", "created_at": 7, "status": "completed", "output": [message],
            "usage": USAGE, "x_odd": [1]}  # fmt: skip
    reply = parse_response(orjson.dumps(data), request)
    assert reply.native == data and reply.model == "public"
    assert reply.choices[0].content == "Hello" and reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.total_tokens == 12


def test_the_body_goes_to_the_native_path_with_the_deployments_model() -> None:
    body = {"model": "public", "input": "hi", "include": ["x"], "store": False}
    request = ChatRequest("public", [Message("user", "hi")], native=NativeBody("responses", body))
    base = "https://r.openai.azure.com"
    azure = DeploymentConfig(
        provider="azure", model="gpt4o-prod", api_key="k", api_base=base, responses_api="native"
    )
    sent = AzureOpenAIAdapter(azure).chat_request(request, stream=True)
    assert sent.path == "/openai/v1/responses" and sent.headers["api-key"] == "k"
    assert orjson.loads(sent.body) == {**body, "model": "gpt4o-prod", "stream": True}
    vllm = DeploymentConfig(provider="vllm", model="llama", responses_api="native")
    sent = OpenAIAdapter(vllm).chat_request(request, stream=False)
    assert sent.path == "/responses" and orjson.loads(sent.body)["model"] == "llama"
    translating = DeploymentConfig(provider="openai", model="gpt")  # the default: translate
    assert (
        OpenAIAdapter(translating).chat_request(request, stream=False).path == "/chat/completions"
    )
