"""RagServices: the document store, ingestion steps and retriever of one process, from Settings.

The embedder and the vector index are given (the process shares them with the semantic
cache); the store is SQL on `database_url` (SQLite by default, PostgreSQL when distributed),
migrated on `start`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from switchboard.config import Settings
from switchboard.embeddings.base import Embedder
from switchboard.rag.chunking import TokenChunker, load_tokenizer
from switchboard.rag.follow import IndexFollower
from switchboard.rag.ingest import Ingestion
from switchboard.rag.models import Document, NewDocument
from switchboard.rag.retrieve import Retriever
from switchboard.rag.runner import IngestRunner, InProcessRunner
from switchboard.rag.sql_store import SqlDocumentStore
from switchboard.rag.store import DocumentStore
from switchboard.vectors.base import VectorIndex

if TYPE_CHECKING:
    from switchboard.jobs.engine import JobEngine
    from switchboard.jobs.idempotency import Idempotency
    from switchboard.stores.backbone import StoreBackbone


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


@dataclass
class RagRuntime:
    """What one process serves RAG with: the services, the runner of ingestions, and the
    vector index it owns (closed with it; the embedder is the Gateway's, shared)."""

    services: RagServices
    runner: IngestRunner
    index: VectorIndex

    @classmethod
    def build(
        cls,
        settings: Settings,
        embedder: Embedder,
        index: VectorIndex,
        runner: IngestRunner | None = None,
    ) -> RagRuntime:
        services = RagServices.build(settings, embedder, index)
        return cls(services, runner or InProcessRunner(services.ingestion), index)

    async def start(self) -> None:
        await self.services.start()
        started = datetime.now(UTC)
        await self.services.ingestion.restore_index()
        follower = self.services.retriever.follower
        if follower is not None:
            follower.start_from(started)

    async def submit(
        self,
        owner: str,
        new: NewDocument,
        *,
        by: str,
        key_id: str | None,
        idem: Idempotency | None = None,
    ) -> tuple[Document, str | None]:
        """Store the document, then start its ingestion; returns the job id, if any. With an
        Idempotency-Key and the job engine, a repeat gets the first request's document and job
        (without the engine, ingestion is not recorded anywhere a repeat could find it)."""
        from switchboard.rag.tasks import JobsRunner

        if idem is not None and isinstance(self.runner, JobsRunner):
            ingestion = self.services.ingestion
            return await self.runner.submit_once(
                ingestion, owner, new, by=by, key_id=key_id, idem=idem
            )
        doc = await self.services.ingestion.submit(owner, new)
        job = await self.runner.submit(owner, doc.id, doc.version, by=by, key_id=key_id)
        return doc, job

    async def aclose(self) -> None:
        await self.runner.aclose()
        await self.services.aclose()
        await self.index.aclose()


async def rag_runtime(
    settings: Settings,
    embedder: Embedder,
    jobs: JobEngine | None = None,
    backbone: StoreBackbone | None = None,
) -> RagRuntime:
    """The Gateway's embedder, the "rag" vector index (in-process HNSW, or Redis with
    `vector_redis_url`), and ingestion as jobs on the engine when there is one (in-process
    tasks otherwise)."""
    from switchboard.vectors.build import open_vector_index

    index = await open_vector_index(
        settings, "rag", dimensions=embedder.dimensions, backbone=backbone
    )
    runtime = RagRuntime.build(settings, embedder, index)
    if jobs is not None:
        from switchboard.rag.tasks import JobsRunner

        runtime.runner = JobsRunner(jobs)
    if settings.jobs_broker_url and settings.vector_redis_url is None:
        # workers ingest into their own in-process index: follow the store instead
        services = runtime.services
        services.retriever.follower = IndexFollower(services.store, index)
    return runtime
