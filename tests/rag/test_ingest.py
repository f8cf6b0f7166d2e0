"""Ingestion and retrieval with the real MiniLM and the embedded HNSW index, on SQLite and
PostgreSQL: every format, replacement on re-ingest, tenant isolation, resumed steps, the index
rebuilt from the store, and retrieval quality on a small fixture."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from switchboard.config import Settings
from switchboard.embeddings.local import LocalEmbedder
from switchboard.rag.build import RagServices
from switchboard.rag.follow import IndexFollower
from switchboard.rag.ingest import namespace
from switchboard.rag.models import NewDocument
from switchboard.rag.parsers import UnreadableDocument
from switchboard.rag.sql_store import SqlDocumentStore
from switchboard.testing.processes import RedisProcess
from switchboard.vectors.build import open_vector_index
from switchboard.vectors.hnsw import HnswIndex
from tests.rag.conftest import make_pdf

FIXTURE = {
    "bees": "Honey bees communicate the direction of flowers with a waggle dance.",
    "rust": "Iron rusts when it reacts with oxygen and water, forming iron oxide.",
    "jazz": "Bebop jazz emerged in the 1940s with fast tempos and complex chord changes.",
    "tides": "Ocean tides are caused mainly by the gravitational pull of the Moon.",
    "bread": "Sourdough bread rises thanks to wild yeast and lactic acid bacteria.",
    "chess": "In chess, castling moves the king two squares toward a rook.",
    "volcano": "Shield volcanoes are built from runny basalt lava flows.",
    "comet": "A comet's tail always points away from the Sun, pushed by the solar wind.",
}
QUESTIONS = {
    "How do bees tell each other where flowers are?": "bees",
    "What makes iron turn into oxide?": "rust",
    "Which music style appeared in the forties with fast tempos?": "jazz",
    "Why does the sea level rise and fall each day?": "tides",
    "What makes sourdough rise?": "bread",
    "How does castling work?": "chess",
    "What kind of lava forms shield volcanoes?": "volcano",
    "Which way does a comet's tail point?": "comet",
}


@pytest.fixture
async def rag(
    doc_store: SqlDocumentStore, local_embedder: LocalEmbedder
) -> AsyncIterator[RagServices]:
    settings = Settings(rag_chunk_tokens=32, rag_chunk_overlap=8)
    index = HnswIndex()
    yield RagServices.build(settings, local_embedder, index, store=doc_store)
    await index.aclose()


async def ingest(rag: RagServices, owner: str, new: NewDocument) -> None:
    doc = await rag.ingestion.submit(owner, new)
    await rag.ingestion.run(owner, doc.id, doc.version)


async def test_each_format_is_ingested_and_found(rag: RagServices) -> None:
    html = b"<html><title>Owls</title><body><p>Barn owls hunt mice at night.</p></body></html>"
    pdf = make_pdf(["Glaciers carve U-shaped valleys.", "Moraines are rock left by ice."], "Ice")
    docs = [
        NewDocument("t", "txt", b"Penguins live in the southern hemisphere."),
        NewDocument("m", "markdown", b"# Tea\n\nGreen tea is *unoxidised* tea leaves."),
        NewDocument("h", "html", html),
        NewDocument("p", "pdf", pdf),
    ]
    for new in docs:
        await ingest(rag, "tenant:a", new)
    for doc_id in "tmhp":
        doc = await rag.store.get("tenant:a", doc_id)
        assert doc is not None and doc.status == "ready" and doc.chunks >= 1
    top = await rag.retriever.search("tenant:a", "What are moraines?", k=1)
    assert (top[0].document_id, top[0].title, top[0].page) == ("p", "Ice", 2)
    top = await rag.retriever.search("tenant:a", "nocturnal bird hunting rodents", k=1)
    assert (top[0].document_id, top[0].title, top[0].page) == ("h", "Owls", None)
    assert top[0].chunk_id.startswith("h:v1:") and 0 < top[0].score <= 1


async def test_re_ingesting_replaces_the_chunks(rag: RagServices) -> None:
    long = " ".join(["Saturn has rings made of ice."] * 20)
    await ingest(rag, "tenant:a", NewDocument("s", "txt", long.encode()))
    first = await rag.store.get("tenant:a", "s")
    assert first is not None and first.chunks > 1
    await ingest(rag, "tenant:a", NewDocument("s", "txt", b"Jupiter has a great red spot."))
    doc = await rag.store.get("tenant:a", "s")
    assert doc is not None and (doc.version, doc.chunks) == (2, 1)
    found = await rag.retriever.search("tenant:a", "rings of Saturn", k=5)
    assert [s.text for s in found] == ["Jupiter has a great red spot."]
    assert await rag.ingestion.vector_index.count(namespace("tenant:a")) == 1


async def test_tenants_never_see_each_others_chunks(rag: RagServices) -> None:
    await ingest(rag, "tenant:a", NewDocument("d", "txt", b"The secret launch code is 1234."))
    await ingest(rag, "tenant:b", NewDocument("d", "txt", b"Tenant b grows tomatoes."))
    found = await rag.retriever.search("tenant:b", "secret launch code", k=5)
    assert [s.text for s in found] == ["Tenant b grows tomatoes."]
    assert await rag.retriever.search("tenant:c", "secret launch code", k=5) == []
    assert await rag.ingestion.delete("tenant:b", "d")
    assert await rag.store.get("tenant:a", "d") is not None  # same id, other tenant: intact
    assert await rag.retriever.search("tenant:b", "tomatoes", k=5) == []


async def test_steps_resume_and_a_superseded_version_does_nothing(rag: RagServices) -> None:
    doc = await rag.ingestion.submit("tenant:a", NewDocument("r", "txt", b"Radishes are red."))
    assert (await rag.ingestion.chunk("tenant:a", "r", 1)).chunks == 1
    await rag.ingestion.chunk("tenant:a", "r", doc.version)  # a retried step: same chunks
    newer = await rag.ingestion.submit("tenant:a", NewDocument("r", "txt", b"Beets are purple."))
    assert (await rag.ingestion.chunk("tenant:a", "r", 1)).superseded
    await rag.ingestion.run("tenant:a", "r", newer.version)
    assert (await rag.ingestion.index("tenant:a", "r", 1)).superseded  # a late step of v1
    found = await rag.retriever.search("tenant:a", "vegetables colour", k=5)
    assert [s.text for s in found] == ["Beets are purple."]


async def test_an_unreadable_document_fails_with_its_reason(rag: RagServices) -> None:
    doc = await rag.ingestion.submit("tenant:a", NewDocument("bad", "pdf", b"%PDF-broken"))
    with pytest.raises(UnreadableDocument):
        await rag.ingestion.run("tenant:a", doc.id, doc.version)
    failed = await rag.store.get("tenant:a", "bad")
    assert failed is not None and failed.status == "failed" and "PDF" in (failed.error or "")


async def test_an_empty_index_is_restored_from_the_store(
    rag: RagServices, local_embedder: LocalEmbedder
) -> None:
    for doc_id, text in list(FIXTURE.items())[:3]:
        await ingest(rag, "tenant:a", NewDocument(doc_id, "txt", text.encode()))
    fresh = HnswIndex()  # a restarted process: nothing in memory
    restarted = RagServices.build(Settings(), local_embedder, fresh, store=rag.store)
    assert await restarted.ingestion.restore_index() == 3
    assert await restarted.ingestion.restore_index() == 0  # not twice
    top = await restarted.retriever.search("tenant:a", "waggle dance", k=1)
    assert top[0].document_id == "bees"
    await fresh.aclose()


async def test_retrieval_quality_on_a_small_fixture(rag: RagServices) -> None:
    for doc_id, text in FIXTURE.items():
        await ingest(rag, "tenant:q", NewDocument(doc_id, "txt", text.encode()))
    ranks = []
    for question, expected in QUESTIONS.items():
        found = [s.document_id for s in await rag.retriever.search("tenant:q", question, k=3)]
        ranks.append(found.index(expected) + 1 if expected in found else None)
    assert sum(r == 1 for r in ranks) >= 7, ranks  # MiniLM: top-1 for at least 7 of 8
    assert all(r is not None for r in ranks), ranks  # and every one within the top 3


async def test_the_shared_redis_index_serves_another_process(
    doc_store: SqlDocumentStore, local_embedder: LocalEmbedder, vector_redis: RedisProcess
) -> None:
    """Distributed: what one process (a worker) indexes in the Redis vector index, another
    (an API replica) retrieves; tenants stay apart and a re-ingest replaces."""
    settings = Settings(vector_redis_url=vector_redis.url, redis_prefix=f"sbt-{uuid.uuid4().hex}:")
    worker_index = await open_vector_index(settings, "rag", dimensions=384)
    api_index = await open_vector_index(settings, "rag", dimensions=384)
    worker = RagServices.build(settings, local_embedder, worker_index, store=doc_store)
    api = RagServices.build(settings, local_embedder, api_index, store=doc_store)
    try:
        for doc_id, text in FIXTURE.items():
            await ingest(worker, "tenant:a", NewDocument(doc_id, "txt", text.encode()))
        await ingest(worker, "tenant:b", NewDocument("bees", "txt", b"Wasps build paper nests."))
        top = await api.retriever.search("tenant:a", "How do bees tell where flowers are?", 1)
        assert top[0].document_id == "bees" and "waggle" in top[0].text
        top = await api.retriever.search("tenant:b", "How do bees tell where flowers are?", 3)
        assert [s.text for s in top] == ["Wasps build paper nests."]
        await ingest(worker, "tenant:a", NewDocument("bees", "txt", b"Bees make honey."))
        found = await api.retriever.search("tenant:a", "bees", 8)
        assert [s.text for s in found if s.document_id == "bees"] == ["Bees make honey."]
        assert await api_index.count(namespace("tenant:a")) == len(FIXTURE)
    finally:
        await worker_index.clear()
        await worker_index.aclose()
        await api_index.aclose()


async def test_a_local_index_follows_ingestions_of_other_processes(
    rag: RagServices, local_embedder: LocalEmbedder
) -> None:
    """A Celery worker ingests into its own in-process index: the API process's index catches
    up from the store before searching (new documents and new versions)."""
    await ingest(rag, "tenant:a", NewDocument("bees", "txt", FIXTURE["bees"].encode()))
    api_index = HnswIndex()
    api = RagServices.build(Settings(), local_embedder, api_index, store=rag.store)
    await api.ingestion.restore_index()
    follower = IndexFollower(rag.store, api_index, interval_s=0.0)
    follower.start_from(datetime.now(UTC))
    api.retriever.follower = follower
    await ingest(rag, "tenant:a", NewDocument("rust", "txt", FIXTURE["rust"].encode()))
    top = await api.retriever.search("tenant:a", "Why does iron turn to oxide?", 1)
    assert top and top[0].document_id == "rust"
    await ingest(rag, "tenant:a", NewDocument("rust", "txt", b"Copper turns green as it ages."))
    top = await api.retriever.search("tenant:a", "metal changing colour", 2)
    assert "Copper turns green as it ages." in [s.text for s in top]
    assert await follower.catch_up() == 0  # nothing new: nothing re-added
    await api_index.aclose()
