"""The Embedder protocol shared by the semantic cache, the embedding router and RAG.

Implementations: the shipped local MiniLM model (run on CPU in one shared executor, never on
the event loop) and any OpenAI-compatible embeddings deployment of the catalogue (called through
the pipeline as an internal endpoint). Vectors come back L2-normalised, so a dot product is the
cosine similarity.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]  # shape (n, dimensions), rows L2-normalised


class Embedder(Protocol):
    """Turns texts into unit vectors; `name` keys the embedding cache (model, exact text)."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: list[str]) -> Vectors:
        """One row per text, in order; never blocks the event loop."""

    async def aclose(self) -> None: ...
