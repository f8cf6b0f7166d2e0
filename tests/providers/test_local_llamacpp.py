"""The optional llama.cpp runtime of the local model (SWITCHBOARD_LOCAL_RUNTIME=llamacpp), on the
real SmolLM2 GGUF: answers, streams, stop strings, seeds, cancellation, and many generations in a
row without a crash (0.3.36 crashed on its first here). Skipped where `llama-cpp-python` is not
installed: it is an optional extra that pip builds from source."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import openai
import pytest

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.domain import ChatChunk, ChatRequest, Message
from switchboard.providers.local import LocalModelProvider, build_local
from switchboard.testing.harness import BackgroundLoop, run_gateway

pytest.importorskip("llama_cpp", reason="the optional llamacpp extra is not installed")

DEPLOYMENT = DeploymentConfig(provider="local", model="smollm2-135m-instruct", name="local")
FRANCE = "Which city is the capital of France?"  # greedy Q4 numerics: this one says Paris


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalModelProvider]:
    local = build_local(DEPLOYMENT, Settings(local_runtime="llamacpp", local_default_max_tokens=32))
    asyncio.run(local.start())
    yield local
    asyncio.run(local.aclose())


def ask(text: str, **kw: object) -> ChatRequest:
    return ChatRequest(model="local", messages=[Message("user", text)], **kw)  # type: ignore[arg-type]


async def test_answers_and_counts(provider: LocalModelProvider) -> None:
    response = await provider.chat(ask(FRANCE, temperature=0))
    choice = response.choices[0]
    assert "Paris" in (choice.content or "") and choice.finish_reason == "stop"
    assert response.usage is not None and response.usage.prompt_tokens > 5
    assert 0 < response.usage.completion_tokens <= 32


async def test_streams_token_by_token_like_the_json_reply(provider: LocalModelProvider) -> None:
    chunks: list[ChatChunk] = [c async for c in provider.stream(ask(FRANCE, temperature=0))]
    pieces = [c.choices[0].content for c in chunks if c.choices and c.choices[0].content]
    whole = await provider.chat(ask(FRANCE, temperature=0))
    assert len(pieces) >= 3 and "".join(pieces) == whole.choices[0].content
    assert chunks[-1].usage == whole.usage


async def test_length_stop_strings_and_seeds(provider: LocalModelProvider) -> None:
    short = await provider.chat(ask("Tell me a story.", temperature=0, max_tokens=4))
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens == 4
    full = (await provider.chat(ask(FRANCE, temperature=0))).choices[0].content or ""
    cut = await provider.chat(ask(FRANCE, temperature=0, stop=["Paris"]))
    assert cut.choices[0].content == full[: full.index("Paris")]
    assert cut.choices[0].finish_reason == "stop"
    seeded = [
        (await provider.chat(ask("Name a colour.", temperature=1.0, params={"seed": 5})))
        .choices[0]
        .content
        for _ in range(2)
    ]
    assert seeded[0] == seeded[1]


async def test_a_closed_stream_stops_generating(provider: LocalModelProvider) -> None:
    before = provider.cancelled_generations
    stream = provider.stream(ask("Write a long story about a lighthouse.", max_tokens=200))
    got = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].content:
            got += 1
            if got == 2:
                break
    await stream.aclose()  # type: ignore[attr-defined]
    assert provider.cancelled_generations == before + 1
    after = await provider.chat(ask(FRANCE, temperature=0))  # the worker is free again
    assert "Paris" in (after.choices[0].content or "")


def test_many_generations_in_a_row_without_a_crash(provider: LocalModelProvider) -> None:
    """Runs in threads of its own loop: 24 requests, 4 at a time, sampled and greedy."""

    async def burst() -> list[str]:
        requests = [
            ask(f"Say a word about the number {i}.", temperature=0.7 * (i % 2), max_tokens=12)
            for i in range(24)
        ]
        slots = asyncio.Semaphore(4)

        async def one(request: ChatRequest) -> str:
            async with slots:
                return (await provider.chat(request)).choices[0].content or ""

        return await asyncio.gather(*(one(r) for r in requests))

    answers = asyncio.run(burst())
    assert len(answers) == 24 and all(answers)
    assert threading.active_count() < 50


def test_the_gateway_serves_it_to_the_openai_client(background: BackgroundLoop) -> None:
    settings = Settings(local_runtime="llamacpp", local_default_max_tokens=16)
    with run_gateway(background, settings) as gw:
        client = openai.OpenAI(base_url=gw.url, api_key="x", max_retries=0, timeout=120)
        ask_ = [{"role": "user", "content": FRANCE}]
        resp = client.chat.completions.create(model="local", messages=ask_, temperature=0, n=2)
        assert [c.index for c in resp.choices] == [0, 1]
        assert all("Paris" in (c.message.content or "") for c in resp.choices)
        stream = client.chat.completions.create(
            model="local", messages=ask_, temperature=0, stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == resp.choices[0].message.content


ORDER = """
import asyncio, sys
from switchboard.config import Settings
from switchboard.catalogue import DeploymentConfig
from switchboard.domain import ChatRequest, Message
if sys.argv[1] == "usearch-first":
    import usearch.index
from switchboard.providers.local import build_local
dep = DeploymentConfig(provider="local", model="m", name="local")
provider = build_local(dep, Settings(local_runtime="llamacpp", preload_local_model=False))
asyncio.run(provider.start())  # the gateway starts its providers before its vector indexes
import usearch.index  # what the semantic cache and RAG load at start-up
ask = ChatRequest("local", [Message("user", "Which city is the capital of France?")], max_tokens=8)
try:
    print(asyncio.run(provider.chat(ask)).choices[0].content)
except Exception as exc:
    print("failed:", exc)
"""


@pytest.mark.parametrize("order", ["provider-first", "usearch-first"])
def test_the_provider_primes_llamacpp_before_the_vector_index(order: str) -> None:
    """Loaded after usearch's native library, llama.cpp cannot read a vocabulary; starting the
    provider reads one first, as the gateway does before any cache or RAG index. The other
    order is the control: it shows the failure this guards against."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", ORDER, order], capture_output=True, text=True, timeout=120
    )
    if order == "provider-first":
        assert "Paris" in done.stdout, done.stdout + done.stderr
    else:
        assert "failed:" in done.stdout and "Failed to load model" in done.stdout
