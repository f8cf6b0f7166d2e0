"""An Embedder over any embeddings model of the catalogue (an OpenAI-compatible deployment),
called through the pipeline as an internal endpoint: routing, failover, breakers, metrics and
cost apply to the gateway's own embeddings as to any request. Never calls a provider directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np

from switchboard.domain import EmbeddingRequest, EmbeddingResponse
from switchboard.embeddings.base import Vectors
from switchboard.errors import ProviderError

EmbedCall = Callable[[EmbeddingRequest], Awaitable[EmbeddingResponse]]


class CatalogueEmbedder:
    """`call` is the pipeline's internal embeddings entry, e.g.
    `functools.partial(gateway.internal.embed, "cache")`; `model` a catalogue model name."""

    def __init__(
        self, model: str, call: EmbedCall, dimensions: int, *, max_batch: int = 256
    ) -> None:
        self._model = model
        self._call = call
        self._dimensions = dimensions
        self._max_batch = max_batch

    @property
    def name(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed(self, texts: list[str]) -> Vectors:
        rows = [
            await self._batch(texts[start : start + self._max_batch])
            for start in range(0, len(texts), self._max_batch)
        ]
        if not rows:
            return np.empty((0, self._dimensions), dtype=np.float32)
        return np.vstack(rows)

    async def aclose(self) -> None:
        """The pipeline and its clients belong to the gateway."""

    async def _batch(self, texts: list[str]) -> Vectors:
        reply = await self._call(EmbeddingRequest(model=self._model, input=list(texts)))
        vectors = np.asarray(reply.vectors, dtype=np.float32)
        if vectors.shape != (len(texts), self._dimensions):
            raise ProviderError(
                f"embeddings model {self._model} answered shape {vectors.shape}, "
                f"expected ({len(texts)}, {self._dimensions})"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)  # unit rows, whatever the provider sends
