"""RagServices: the document store, ingestion steps and retriever of one process, from Settings.

The embedder and the vector index are given (the process shares them with the semantic
cache); the store is SQL on `database_url` (SQLite by default, PostgreSQL when distributed),
migrated on `start`.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.config import Settings
from switchboard.embeddings.base import Embedder
from switchboard.rag.chunking import TokenChunker, load_tokenizer
from switchboard.rag.ingest import Ingestion
from switchboard.rag.retrieve import Retriever
from switchboard.rag.store import DocumentStore, SqlDocumentStore
from switchboard.vectors.base import VectorIndex


@dataclass
class RagServices:
    store: DocumentStore
    ingestion: Ingestion
    retriever: Retriever
    top_k: int

    @classmethod
    def build(
        cls,
        settings: Settings,
        embedder: Embedder,
        index: VectorIndex,
        store: DocumentStore | None = None,
    ) -> RagServices:
        store = store or SqlDocumentStore(settings.database_url, schema=settings.database_schema)
        chunker = TokenChunker(
            load_tokenizer(settings.rag_tokenizer_path),
            settings.rag_chunk_tokens,
            min(settings.rag_chunk_overlap, settings.rag_chunk_tokens - 1),
        )
        return cls(
            store,
            Ingestion(store, chunker, embedder, index),
            Retriever(store, embedder, index),
            settings.rag_top_k,
        )

    async def start(self) -> None:
        await self.store.migrate()

    async def aclose(self) -> None:
        await self.store.aclose()
