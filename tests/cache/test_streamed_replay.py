"""A streamed hit replays as SSE chunks shaped like the live stream, through the `openai` SDK,
carrying reasoning, tool calls, logprobs and usage; a cut stream is never stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest
from aiohttp import web

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, chat_upstream, run_gateway

LOGPROB = {"token": "x", "logprob": -0.5, "bytes": [120], "top_logprobs": []}


def _chunk(delta: dict[str, Any], finish: str | None = None, **choice: Any) -> bytes:
    choices = [{"index": 0, "delta": delta, "finish_reason": finish, **choice}]
    body = {"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "up",
            "choices": choices}  # fmt: skip
    return b"data: " + orjson.dumps(body) + b"\n\n"


def _script(text: str) -> list[bytes]:
    usage = {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}
    end = {"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "up",
           "choices": [], "usage": usage}  # fmt: skip
    tail = [b"data: " + orjson.dumps(end) + b"\n\n", b"data: [DONE]\n\n"]
    if "tool" in text:
        call = {"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "lookup", "arguments": ""}}  # fmt: skip
        return [
            _chunk({"role": "assistant", "content": None}),
            _chunk({"reasoning_content": "I should look it up."}),
            _chunk({"tool_calls": [call]}),
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"q": '}}]}),
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"cats"}'}}]}),
            _chunk({}, "tool_calls"),
            *tail,
        ]
    cut = "cut" in text
    lp = {"content": [LOGPROB], "refusal": None}
    return [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"reasoning_content": "Thinking "}),
        _chunk({"reasoning_content": "hard."}),
        _chunk({"content": "Hello"}, logprobs=lp),
        _chunk({"content": " there, a longer answer"}, logprobs=lp),
        *([] if cut else [_chunk({}, "stop"), *tail]),
    ]


@pytest.fixture(scope="module")
def gateway(background: BackgroundLoop) -> Iterator[GatewayServer]:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        text = body["messages"][-1]["content"]
        if not body.get("stream"):
            return web.json_response({"error": {"message": "stream only"}}, status=400)
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for line in _script(text):
            await resp.write(line)
        if "cut" in text:
            raise ConnectionResetError  # the upstream dies mid-stream
        return resp

    with chat_upstream(background, handler) as url:
        dep = {"provider": "openai", "model": "up", "api_base": url, "name": "scripted"}
        models = [{"name": "m", "deployments": [dep], "cache": {"tools": True}}]
        settings = Settings(catalogue=Catalogue.model_validate({"models": models}))
        with run_gateway(background, settings) as server:
            yield server


def _collect(client: openai.OpenAI, text: str, **kw: Any) -> tuple[dict[str, Any], str]:
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": text}], stream=True, **kw
    )
    reasoning, content, args, logprobs = "", "", "", []
    usage, finish, calls, chunks = None, None, [], 0
    for chunk in raw.parse():
        chunks += 1
        if chunk.usage is not None:
            usage = chunk.usage.model_dump()
        for c in chunk.choices:
            delta = c.delta.model_dump()
            reasoning += delta.get("reasoning_content") or ""
            content += c.delta.content or ""
            for call in c.delta.tool_calls or []:
                if call.id:
                    calls.append((call.id, call.function.name if call.function else None))
                args += (call.function.arguments or "") if call.function else ""
            if c.logprobs is not None and c.logprobs.content:
                logprobs += [lp.model_dump() for lp in c.logprobs.content]
            finish = c.finish_reason or finish
    seen = {"reasoning": reasoning, "content": content, "calls": calls, "args": args,
            "logprobs": logprobs, "usage": usage, "finish": finish, "many": chunks > 2}  # fmt: skip
    return seen, raw.headers["x-switchboard-cache"]


@pytest.mark.parametrize("kind", ["text", "tool"])
def test_streamed_hit_carries_everything_the_original_did(
    gateway: GatewayServer, background: BackgroundLoop, kind: str
) -> None:
    client = openai.OpenAI(base_url=gateway.url, api_key="x", max_retries=0)
    text = f"{kind} {uuid.uuid4().hex}"
    live, outcome = _collect(client, text, stream_options={"include_usage": True})
    assert outcome == "miss"
    background.run(gateway.gateway.cache.drain())
    replay, outcome = _collect(client, text, stream_options={"include_usage": True})
    assert outcome == "hit-exact"
    assert replay == live
    assert live["reasoning"] and live["usage"] == {**live["usage"], "total_tokens": 16}
    quiet, outcome = _collect(client, text)  # no usage asked: none sent
    assert outcome == "hit-exact" and quiet["usage"] is None
    assert quiet["content"] == live["content"]


def test_a_cut_stream_is_never_stored(gateway: GatewayServer, background: BackgroundLoop) -> None:
    client = openai.OpenAI(base_url=gateway.url, api_key="x", max_retries=0)
    cache = gateway.gateway.cache
    before = background.run(cache.count())
    with pytest.raises(openai.APIError):
        _collect(client, f"cut {uuid.uuid4().hex}")
    background.run(cache.drain())
    assert background.run(cache.count()) == before
    _collect(client, f"whole {uuid.uuid4().hex}")  # the same path, complete: stored
    background.run(cache.drain())
    assert background.run(cache.count()) == before + 1


def test_a_hit_streams_through_the_anthropic_messages_api(
    gateway: GatewayServer, background: BackgroundLoop
) -> None:
    import anthropic

    client = anthropic.Anthropic(base_url=gateway.base, api_key="x", max_retries=0, timeout=10)
    text = f"text {uuid.uuid4().hex}"

    def stream() -> tuple[str, str, str]:
        with client.messages.stream(
            model="m", max_tokens=64, messages=[{"role": "user", "content": text}]
        ) as s:
            said = "".join(s.text_stream)
            final = s.get_final_message()
            thinking = "".join(b.thinking for b in final.content if b.type == "thinking")
            return said, thinking, s.response.headers["x-switchboard-cache"]

    live = stream()
    background.run(gateway.gateway.cache.drain())
    replayed = stream()
    assert live[2] == "miss" and replayed[2] == "hit-exact"
    assert replayed[:2] == live[:2] and live[0] and live[1]
