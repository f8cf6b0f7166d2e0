"""The stream accountant (pipeline/assembly.py) assembles what the deltas carry beside text:
a streamed reply, assembled, renders as the plain reply the upstream would have sent."""

from __future__ import annotations

import orjson

from switchboard.api.render import chat_response_json
from switchboard.errors import ProviderError
from switchboard.pipeline.assembly import ReplyAssembler
from switchboard.providers.base import SseEvent
from switchboard.providers.openai import OpenAIStreamParser
from tests.api.fidelity_upstream import stream_chunks


def assembled(scenario: str) -> tuple[ReplyAssembler, int]:
    parser = OpenAIStreamParser("wire", ProviderError)
    assembler = ReplyAssembler()
    pieces = 0
    for data in stream_chunks(scenario, include_usage=True):
        for chunk in parser.feed(SseEvent("", orjson.dumps(data).decode())):
            pieces += assembler.add(chunk)
    return assembler, pieces


def test_reasoning_logprobs_and_annotations_are_assembled() -> None:
    assembler, pieces = assembled("everything")
    body = chat_response_json(assembler.to_response())
    message = body["choices"][0]["message"]
    assert message["content"] == "Hi"
    assert message["reasoning_content"] == "The user greets me; greet back."
    assert message["refusal"] is None
    assert message["annotations"][0]["url_citation"]["url"] == "https://example.com/"
    assert [t["token"] for t in body["choices"][0]["logprobs"]["content"]] == ["Hi"]
    assert body["service_tier"] == "default" and body["system_fingerprint"] == "fp_0123abcd"
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    assert pieces == 3  # two reasoning deltas and one of content: a first token comes early


def test_refusal_and_legacy_function_call_are_assembled() -> None:
    refusal = chat_response_json(assembled("refusal")[0].to_response())["choices"][0]
    assert refusal["message"]["refusal"] == "I can't help with that."
    assert refusal["message"]["content"] is None or refusal["message"]["content"] == ""
    call = chat_response_json(assembled("function_call")[0].to_response())["choices"][0]
    assert call["message"]["function_call"] == {
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert call["finish_reason"] == "function_call"
