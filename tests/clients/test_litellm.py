"""The litellm SDK through Switchboard: `litellm.completion` (plain, streamed, async, n > 1,
tools) and `litellm.text_completion` show what they show pointed straight at the upstream,
every field included (litellm keeps `reasoning_content`, `annotations`, logprobs, refusal,
`function_call`, `service_tier`, `system_fingerprint` and the usage details; unknown choice
fields land in `provider_specific_fields`). `litellm.responses` goes through the gateway's
Responses translation, which has no upstream to compare with: each field is checked."""

from __future__ import annotations

from typing import Any

import litellm
import pytest

from tests.api.fidelity_upstream import PLAIN, TOOL_CALLS
from tests.clients.conftest import MODEL
from tests.clients.upstream import ClientsUpstream

SCENARIOS = ["everything", "refusal", "function_call", "tool_calls"]
EVERYTHING = PLAIN["everything"]["choices"][0]


def ask(url: str, scenario: str, **kw: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": scenario}]
    reply = litellm.completion(
        model=f"openai/{MODEL}", api_base=url, api_key="x", messages=messages, **kw
    )
    return reply.model_dump()  # type: ignore[union-attr]


def chunks_of(stream: Any) -> list[dict[str, Any]]:
    """The chunks as the user gets them; litellm stamps `created` with its own clock."""
    return [{k: v for k, v in c.model_dump().items() if k != "created"} for c in stream]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_plain(urls: tuple[str, str], scenario: str) -> None:
    direct, via = (ask(url, scenario) for url in urls)
    assert via == direct
    message = via["choices"][0]["message"]
    if scenario == "everything":
        want = EVERYTHING["message"]
        assert message["reasoning_content"] == want["reasoning_content"]
        assert message["annotations"] == want["annotations"]
        assert via["choices"][0]["logprobs"] == EVERYTHING["logprobs"]
        fields = via["choices"][0]["provider_specific_fields"]
        assert fields["content_filter_results"] == EVERYTHING["content_filter_results"]
        assert via["service_tier"] == "default" and via["system_fingerprint"] == "fp_0123abcd"
        assert via["usage"]["prompt_tokens_details"]["cached_tokens"] == 8
        assert via["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    elif scenario == "refusal":
        assert message["refusal"] == "I can't help with that."
    elif scenario == "function_call":
        assert message["function_call"] == TOOL_CALLS[0]["function"]
    else:
        assert message["tool_calls"] == TOOL_CALLS


def ask_stream(url: str, scenario: str, **kw: Any) -> list[Any]:
    messages = [{"role": "user", "content": scenario}]
    options = {"include_usage": True}
    return list(
        litellm.completion(
            model=f"openai/{MODEL}",
            api_base=url,
            api_key="x",
            messages=messages,
            stream=True,
            stream_options=options,
            **kw,
        )
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_streamed(urls: tuple[str, str], scenario: str) -> None:
    direct, chunks = (ask_stream(url, scenario) for url in urls)
    via = chunks_of(chunks)
    assert via == chunks_of(direct)
    deltas = [c["choices"][0]["delta"] for c in via if c["choices"]]
    if scenario == "everything":
        reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
        assert reasoning == EVERYTHING["message"]["reasoning_content"]
        assert [d["annotations"] for d in deltas if d.get("annotations")] == [
            [{"type": "url_citation", "url_citation": {"url": "https://example.com/"}}]
        ]
        logprobs = [c["choices"][0]["logprobs"] for c in via if c["choices"]]
        assert [lp for lp in logprobs if lp] == [EVERYTHING["logprobs"]]
        usage = via[-1]["usage"]
        assert usage["prompt_tokens_details"]["cached_tokens"] == 8
        assert usage["completion_tokens_details"]["reasoning_tokens"] == 3
        assert {c["service_tier"] for c in via} == {"default"}
        assert {c["system_fingerprint"] for c in via} == {"fp_0123abcd"}
    elif scenario == "refusal":
        # litellm's stream wrapper keeps no refusal text (directly or not): only the finish
        assert not any(d.get("refusal") for d in deltas)
        assert via[-2]["choices"][0]["finish_reason"] == "stop"
    elif scenario == "function_call":
        args = "".join(d["function_call"]["arguments"] for d in deltas if d.get("function_call"))
        assert args == TOOL_CALLS[0]["function"]["arguments"]
    else:
        built = litellm.stream_chunk_builder(chunks)
        assert built is not None
        calls = built.choices[0].message.tool_calls  # type: ignore[union-attr]
        assert [c.model_dump() for c in calls] == TOOL_CALLS
        assert built.choices[0].finish_reason == "tool_calls"


async def test_async(urls: tuple[str, str]) -> None:
    messages = [{"role": "user", "content": "everything"}]
    seen = []
    for url in urls:
        kw = {"model": f"openai/{MODEL}", "api_base": url, "api_key": "x", "messages": messages}
        reply = await litellm.acompletion(**kw)
        stream = await litellm.acompletion(**kw, stream=True)
        seen.append((reply.model_dump(), chunks_of([c async for c in stream])))
    assert seen[1] == seen[0]
    assert seen[1][0]["choices"][0]["message"]["reasoning_content"]


def test_n_choices(urls: tuple[str, str], upstream: ClientsUpstream) -> None:
    direct, via = (ask(url, "everything", n=3) for url in urls)
    assert upstream.asked_alike() and upstream.received[-1]["n"] == 3
    assert via == direct
    assert [c["index"] for c in via["choices"]] == [0, 1, 2]
    assert {c["message"]["reasoning_content"] for c in via["choices"]} == {
        EVERYTHING["message"]["reasoning_content"]
    }


def test_n_choices_streamed(urls: tuple[str, str], upstream: ClientsUpstream) -> None:
    direct, via = (chunks_of(ask_stream(url, "tool_calls", n=2)) for url in urls)
    assert via == direct
    assert upstream.asked_alike() and upstream.received[-1]["n"] == 2
    indexes = {c["choices"][0]["index"] for c in via if c["choices"]}
    assert indexes == {0, 1}


@pytest.mark.parametrize("provider", ["text-completion-openai", "openai"])
def test_text_completion(urls: tuple[str, str], provider: str) -> None:
    """`text-completion-openai/` calls /v1/completions; `openai/` turns it into a chat call."""
    seen = []
    for url in urls:
        kw = {"model": f"{provider}/{MODEL}", "api_base": url, "api_key": "x"}
        reply = litellm.text_completion(prompt="everything", **kw).model_dump()
        chunks = chunks_of(litellm.text_completion(prompt="everything", stream=True, **kw))
        seen.append((reply, chunks))
    assert seen[1] == seen[0]
    reply, chunks = seen[1]
    assert reply["choices"][0]["text"] == "Hi"
    assert reply["usage"]["prompt_tokens_details"]["cached_tokens"] == 8
    assert reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    if provider == "text-completion-openai":
        assert reply["system_fingerprint"] == "fp_0123abcd"
    assert "".join(c["choices"][0]["text"] or "" for c in chunks if c["choices"]) == "Hi"


CITATION = {
    "type": "url_citation",
    "start_index": 0,
    "end_index": 2,
    "title": "Example",
    "url": "https://example.com/",
}


def respond(url: str, scenario: str, **kw: Any) -> Any:
    return litellm.responses(
        model=f"openai/{MODEL}", api_base=url, api_key="x", input=scenario, **kw
    )


def plain(value: Any) -> dict[str, Any]:
    """litellm gives some Responses logprobs as models, some as dicts."""
    return value if isinstance(value, dict) else value.model_dump()  # type: ignore[no-any-return]


LOGPROBS = {"include": ["message.output_text.logprobs"], "top_logprobs": 1}


def test_responses_plain(gw: Any, upstream: ClientsUpstream) -> None:
    reply = respond(gw.url, "everything", **LOGPROBS)
    assert upstream.received[-1]["logprobs"] is True and upstream.received[-1]["top_logprobs"] == 1
    reasoning, message = reply.output
    assert reasoning.content[0].text == EVERYTHING["message"]["reasoning_content"]
    [text] = message.content
    assert text.text == "Hi" and [dict(a) for a in text.annotations] == [CITATION]
    assert [plain(lp) for lp in text.logprobs] == EVERYTHING["logprobs"]["content"]
    assert reply.service_tier == "default"
    assert reply.usage.input_tokens_details.cached_tokens == 8
    assert reply.usage.output_tokens_details.reasoning_tokens == 3
    [refusal] = respond(gw.url, "refusal").output
    assert refusal.content[0].refusal == "I can't help with that."
    calls = respond(gw.url, "tool_calls").output
    assert [(c.type, c.call_id, c.name, c.arguments) for c in calls] == [
        ("function_call", t["id"], "get_weather", t["function"]["arguments"]) for t in TOOL_CALLS
    ]


def test_responses_streamed(gw: Any) -> None:
    events = list(respond(gw.url, "everything", stream=True, **LOGPROBS))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    reasoning = "".join(e.delta for e in events if e.type == "response.reasoning_text.delta")
    assert reasoning == EVERYTHING["message"]["reasoning_content"]
    added = [e for e in events if e.type == "response.output_text.annotation.added"]
    assert [dict(e.annotation) for e in added] == [{"type": "url_citation", "url": CITATION["url"]}]
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert [plain(lp) for e in deltas for lp in e.logprobs] == EVERYTHING["logprobs"]["content"]
    final = events[-1].response
    [text] = plain(final.output[1])["content"]
    assert [plain(lp) for lp in text["logprobs"]] == EVERYTHING["logprobs"]["content"]
    assert final.service_tier == "default"
    assert final.usage.input_tokens_details.cached_tokens == 8
    assert final.usage.output_tokens_details.reasoning_tokens == 3
    calls = [
        e.item
        for e in respond(gw.url, "tool_calls", stream=True)
        if e.type == "response.output_item.done"
    ]
    assert [(c.call_id, c.arguments) for c in calls] == [
        (t["id"], t["function"]["arguments"]) for t in TOOL_CALLS
    ]


async def test_responses_async(gw: Any) -> None:
    kw = {"model": f"openai/{MODEL}", "api_base": gw.url, "api_key": "x", "input": "everything"}
    reply = await litellm.aresponses(**kw)
    assert reply.output[1].content[0].text == "Hi" and reply.service_tier == "default"
    events = [e async for e in await litellm.aresponses(**kw, stream=True)]
    assert events[-1].type == "response.completed"
    assert events[-1].response.usage.input_tokens_details.cached_tokens == 8
