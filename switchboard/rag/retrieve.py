"""Retrieval: the owner's top-k chunks for a query, with title, page, chunk id and score.

The vector index answers in the owner's namespace only; the store then keeps the chunks the
owner's documents serve now (a replaced version's stray entries drop out here).
"""

from __future__ import annotations

from switchboard.embeddings.base import Embedder
from switchboard.rag.follow import IndexFollower
from switchboard.rag.ingest import namespace
from switchboard.rag.models import Source
from switchboard.rag.store import DocumentStore
from switchboard.vectors.base import VectorIndex

OVERFETCH = 2  # extra candidates per result, for entries of replaced versions not yet dropped


class Retriever:
    def __init__(
        self,
        store: DocumentStore,
        embedder: Embedder,
        index: VectorIndex,
        follower: IndexFollower | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.index = index
        self.follower = follower  # set when other processes ingest into a local index

    async def search(self, owner: str, query: str, k: int = 4) -> list[Source]:
        if k < 1 or not query.strip():
            return []
        if self.follower is not None:
            await self.follower.catch_up()
        vector = (await self.embedder.embed([query]))[0]
        matches = await self.index.search(namespace(owner), vector, k * OVERFETCH)
        if not matches:
            return []
        found = {c.chunk_id: c for c in await self.store.chunks(owner, [m.id for m in matches])}
        sources = [
            Source(c.chunk_id, c.document_id, c.title, c.page, m.score, c.text)
            for m in matches
            if (c := found.get(m.id)) is not None
        ]
        return sources[:k]
