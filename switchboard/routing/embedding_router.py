"""The embedding complexity router: logistic regression on the query's MiniLM embedding plus
the hand signals of `features.py`, trained by `bench/routing_train_embedding.py` on the same
labeled set as the feature classifier. Its embedding runs on the embedder's worker thread (off
the event loop, L3-cached, shared with the semantic cache), so `classify` is async.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from switchboard.domain import Message
from switchboard.embeddings.base import Embedder
from switchboard.routing.complexity import TIERS, Tier
from switchboard.routing.features import DENSE_NAMES, content_text, extract, view_of

DEFAULT_EMBEDDING_MODEL = Path(__file__).parent / "data" / "complexity_embedding.json"
FORMAT = 1
QUERY_CHARS = 2000  # MiniLM reads 256 tokens at most; more text only costs time


def query_text(messages: Sequence[Message]) -> str:
    """The last user message's text, as the labeled set's queries are."""
    for message in reversed(messages):
        if message.role == "user":
            return content_text(message.content)[:QUERY_CHARS]
    return ""


class EmbeddingComplexityClassifier:
    def __init__(self, embedder: Embedder, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT or data.get("tiers") != [t.value for t in TIERS]:
            raise ValueError("unsupported embedding router file")
        if tuple(data["dense_names"]) != DENSE_NAMES:
            raise ValueError("the router's dense features do not match this code's features")
        self._embedder = embedder
        self._weights = np.array(data["weights"], dtype=np.float32)
        self._bias = np.array(data["bias"], dtype=np.float32)
        self._mean = np.array(data["dense_mean"], dtype=np.float32)
        self._scale = np.array(data["dense_scale"], dtype=np.float32)

    @classmethod
    def load(cls, embedder: Embedder, path: Path | None = None) -> EmbeddingComplexityClassifier:
        """Read the trained weights (the committed file by default); blocking file I/O."""
        data = json.loads((path or DEFAULT_EMBEDDING_MODEL).read_text(encoding="utf-8"))
        return cls(embedder, data)

    async def classify(self, messages: Sequence[Message]) -> Tier:
        vector = (await self._embedder.embed([query_text(messages)]))[0]
        _, dense = extract(view_of(messages))
        standardized = (np.array(dense, dtype=np.float32) - self._mean) / self._scale
        logits = self._weights @ np.concatenate([vector, standardized]) + self._bias
        return TIERS[int(np.argmax(logits))]
