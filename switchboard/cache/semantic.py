"""The semantic layer: the last user message's embedding, searched among a scope's entries.

What is embedded is the message without its wrapping (greetings, "please", "can you tell me";
cache/normalize.py), so paraphrases that differ only there score as the same question.

A vector only points at an entry: every match is read back from the reply store and must have
the same context key (system prompt, earlier turns, parameters) and pass the false-hit guard,
so the index can be approximate, lag behind an invalidation, or be shared, without a wrong
context or a cleared entry ever being served. A failing embedder or index fails open (a miss),
logged and counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.cache.normalize import for_embedding
from switchboard.embeddings.base import Embedder
from switchboard.vectors.base import Match, VectorIndex

log = logging.getLogger("switchboard.cache")
LOG_EVERY_S = 60.0
CANDIDATES = 4  # neighbours read back per lookup: a context that lost its nearest still hits


def namespace(scope: str, model: str) -> str:
    return f"cache/{len(scope)}:{scope}/{model}"


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    similarity: float


class SemanticLayer:
    def __init__(
        self,
        embedder: Embedder,
        index: VectorIndex,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.embedder = embedder
        self.index = index
        self._on_error = on_error
        self._logged: dict[str, float] = {}

    async def find(self, scope: str, model: str, query: str, threshold: float) -> list[Candidate]:
        """Entries whose stored question is at least `threshold` similar, best first."""
        try:
            vector = (await self.embedder.embed([for_embedding(query)]))[0]
        except Exception as exc:
            self._failed("embedder", exc)
            return []
        try:
            matches: list[Match] = await self.index.search(
                namespace(scope, model), vector, CANDIDATES
            )
        except Exception as exc:
            self._failed("vectors", exc)
            return []
        return [Candidate(m.id, m.score) for m in matches if m.score >= threshold]

    async def add(self, scope: str, model: str, entry_id: str, query: str, ttl_s: float) -> None:
        try:
            vectors = await self.embedder.embed([for_embedding(query)])
        except Exception as exc:
            self._failed("embedder", exc)
            return
        try:
            await self.index.add(namespace(scope, model), [entry_id], vectors, ttl_s=ttl_s)
        except Exception as exc:
            self._failed("vectors", exc)

    async def clear(self, scopes: list[str], models: list[str]) -> int:
        dropped = 0
        for scope in scopes:
            for model in models:
                dropped += await self.index.clear(namespace(scope, model))
        return dropped

    async def aclose(self) -> None:
        """The index is the layer's own; the embedder is the gateway's (closed by it)."""
        await self.index.aclose()

    def _failed(self, part: str, exc: Exception) -> None:
        """Counted every time; logged at most once a minute per part (an embedder that cannot
        load fails every request)."""
        now = time.monotonic()
        if now - self._logged.get(part, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[part] = now
            log.warning("semantic cache: the %s failed (%s); a miss", part, type(exc).__name__)
        if self._on_error is not None:
            self._on_error(part)
