"""Ingestion as three resumable steps (chunk → embed → index), each safe to retry on its own:
a step reads what the previous one stored, and does nothing for a superseded version.

Background jobs wrap these methods thinly; `run` chains them in-process (the embedded path,
benchmarks and tests of the steps themselves).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

from switchboard.embeddings.base import Embedder
from switchboard.errors import ServiceNotReady
from switchboard.rag.chunking import TokenChunker
from switchboard.rag.models import Document, NewDocument
from switchboard.rag.parsers import UnreadableDocument, parse
from switchboard.rag.store import DocumentStore
from switchboard.vectors.base import VectorIndex

log = logging.getLogger("switchboard.rag")


def namespace(owner: str) -> str:
    """The vector index namespace of one owner's chunks (a digest: no separators to escape)."""
    return "rag-" + hashlib.sha256(owner.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a step did; `superseded` when a newer version of the document took over."""

    document_id: str
    version: int
    chunks: int = 0
    superseded: bool = False


class Ingestion:
    def __init__(
        self,
        store: DocumentStore,
        chunker: TokenChunker,
        embedder: Embedder,
        index: VectorIndex,
        embed_batch: int = 64,
    ) -> None:
        self.store = store
        self.chunker = chunker
        self.embedder = embedder
        self.vector_index = index
        self.embed_batch = embed_batch

    async def submit(self, owner: str, new: NewDocument) -> Document:
        """Store the document's bytes (a new version if it exists); the steps run after."""
        return await self.store.put(owner, new)

    async def chunk(self, owner: str, document_id: str, version: int) -> StepResult:
        content = await self.store.content(owner, document_id, version)
        if content is None:
            return StepResult(document_id, version, superseded=True)
        doc = await self.store.get(owner, document_id)
        assert doc is not None
        try:
            parsed = await asyncio.to_thread(parse, content, doc.format)
        except UnreadableDocument as exc:
            await self.store.set_status(owner, document_id, version, "failed", exc.message)
            raise
        chunks = await asyncio.to_thread(self.chunker.chunk, parsed.pages)
        title = parsed.title if doc.title is None else None
        await self.store.replace_chunks(
            owner, document_id, version, chunks, len(parsed.pages), title
        )
        return StepResult(document_id, version, len(chunks))

    async def embed(self, owner: str, document_id: str, version: int) -> StepResult:
        """Embeds the chunks that have no vector yet, batch by batch (a retry resumes)."""
        done = 0
        while batch := await self.store.unembedded(owner, document_id, version, self.embed_batch):
            ids = [cid for cid, _ in batch]
            vectors = await self.embedder.embed([text for _, text in batch])
            await self.store.set_embeddings(owner, ids, vectors)
            done += len(ids)
        await self.store.set_status(owner, document_id, version, "embedded")
        return StepResult(document_id, version, done)

    async def index(self, owner: str, document_id: str, version: int) -> StepResult:
        """Adds the version's vectors, then serves it and drops the replaced chunks."""
        ids, vectors = await self.store.vectors(owner, document_id, version)
        space = namespace(owner)
        if ids:
            skipped = getattr(self.vector_index, "failed_open", 0)
            await self.vector_index.add(space, ids, vectors)
            if getattr(self.vector_index, "failed_open", 0) > skipped:  # a shared index down
                raise ServiceNotReady("the vector index did not take the chunks", retry_after=2)
        replaced = await self.store.promote(owner, document_id, version)
        if replaced is None:  # a newer version took over while this one was being indexed
            if ids:
                await self.vector_index.remove(space, ids)
            return StepResult(document_id, version, superseded=True)
        if replaced:
            await self.vector_index.remove(space, replaced)
        return StepResult(document_id, version, len(ids))

    async def run(self, owner: str, document_id: str, version: int) -> StepResult:
        """All three steps in order, in this process."""
        await self.chunk(owner, document_id, version)
        await self.embed(owner, document_id, version)
        return await self.index(owner, document_id, version)

    async def restore_index(self) -> int:
        """Refill an empty vector index (an embedded one after a restart) from the vectors the
        store keeps; returns how many entries were added."""
        if await self.vector_index.count() > 0:
            return 0
        added = 0
        async for owner, ids, vectors in self.store.served_vectors():
            await self.vector_index.add(namespace(owner), ids, vectors)
            added += len(ids)
        if added:
            log.info("vector index restored from the document store: %d chunks", added)
        return added

    async def delete(self, owner: str, document_id: str) -> bool:
        removed = await self.store.delete(owner, document_id)
        if removed is None:
            return False
        if removed:
            await self.vector_index.remove(namespace(owner), removed)
        return True
