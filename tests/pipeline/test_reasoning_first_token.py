"""A reasoning model's first reasoning delta is its first token: the stream is released to the
client then, not held back (and timed out) until the first content delta."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import orjson
import pytest
from aiohttp import web

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.testing.harness import BackgroundLoop, GatewayServer, chat_upstream, run_gateway


@pytest.fixture(scope="module")
def thinker(background: BackgroundLoop) -> Iterator[str]:
    """Streams reasoning deltas for a long while before any content."""

    async def chat(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for i in range(40):
            delta = {"role": "assistant", "reasoning_content": f"step {i}. "}
            chunk = {"id": "r", "object": "chat.completion.chunk", "created": 0, "model": "up",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}  # fmt: skip
            await resp.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
            await asyncio.sleep(0.05)
        answer = {"index": 0, "delta": {"content": "42"}, "finish_reason": "stop"}
        final = {"id": "r", "object": "chat.completion.chunk", "created": 0, "model": "up",
                 "choices": [answer]}  # fmt: skip
        await resp.write(b"data: " + orjson.dumps(final) + b"\n\ndata: [DONE]\n\n")
        return resp

    with chat_upstream(background, chat) as url:
        yield url


@pytest.fixture(scope="module")
def reasoning_gateway(background: BackgroundLoop, thinker: str) -> Iterator[GatewayServer]:
    # the whole reasoning phase (~2 s) is far longer than the first-token timeout
    dep = {"provider": "openai", "model": "up", "api_base": thinker, "first_token_timeout": 0.5}
    catalogue = Catalogue.model_validate({"models": [{"name": "thinker", "deployments": [dep]}]})
    with run_gateway(background, Settings(catalogue=catalogue, retry_rounds=0)) as server:
        yield server


def test_reasoning_deltas_count_as_the_first_token(reasoning_gateway: GatewayServer) -> None:
    body = {"model": "thinker", "stream": True, "messages": [{"role": "user", "content": "?"}]}
    with httpx.stream(
        "POST", reasoning_gateway.url + "/chat/completions", json=body, timeout=30
    ) as r:
        assert r.status_code == 200, r.read()
        text = "".join(r.iter_text())
    assert text.count('"reasoning_content"') == 40 and '"42"' in text
