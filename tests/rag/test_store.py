"""The document store on SQLite and PostgreSQL: versions, chunk replacement, owner isolation."""

from __future__ import annotations

import numpy as np

from switchboard.rag.chunking import Chunk
from switchboard.rag.models import NewDocument
from switchboard.rag.sql_store import SqlDocumentStore


def chunks(*texts: str) -> list[Chunk]:
    return [Chunk(i, None, t, len(t.split())) for i, t in enumerate(texts)]


async def test_put_get_list_and_owner_isolation(doc_store: SqlDocumentStore) -> None:
    first = await doc_store.put("t:a", NewDocument("d1", "txt", b"hello", title="Hello"))
    assert (first.version, first.status, first.indexed_version) == (1, "queued", None)
    await doc_store.put("t:a", NewDocument("d2", "txt", b"x"))
    await doc_store.put("t:b", NewDocument("d1", "txt", b"other tenant"))
    assert [d.id for d in await doc_store.list("t:a")] == ["d1", "d2"]
    assert [d.id for d in await doc_store.list("t:a", after="d1")] == ["d2"]
    got = await doc_store.get("t:a", "d1")
    assert got is not None and got.title == "Hello"
    assert await doc_store.content("t:b", "d1", 1) == b"other tenant"
    assert await doc_store.get("t:c", "d1") is None
    assert await doc_store.delete("t:c", "d1") is None
    assert await doc_store.get("t:b", "d1") is not None


async def test_a_new_version_replaces_the_chunks_only_once_promoted(
    doc_store: SqlDocumentStore,
) -> None:
    owner = "t:a"
    await doc_store.put(owner, NewDocument("d", "txt", b"v1"))
    await doc_store.replace_chunks(owner, "d", 1, chunks("one", "two"), pages=1)
    await doc_store.replace_chunks(owner, "d", 1, chunks("one", "two"), pages=1)  # a retry
    pending = await doc_store.unembedded(owner, "d", 1, limit=10)
    assert [text for _, text in pending] == ["one", "two"]
    ids = [cid for cid, _ in pending]
    await doc_store.set_embeddings(owner, ids[:1], np.ones((1, 3), dtype=np.float32))
    assert [cid for cid, _ in await doc_store.unembedded(owner, "d", 1, 10)] == ids[1:]
    await doc_store.set_embeddings(owner, ids[1:], np.full((1, 3), 2.0, dtype=np.float32))
    got_ids, vectors = await doc_store.vectors(owner, "d", 1)
    assert got_ids == ids and vectors.tolist() == [[1.0] * 3, [2.0] * 3]
    assert await doc_store.chunks(owner, ids) == []  # not served before promotion
    assert await doc_store.promote(owner, "d", 1) == []
    assert [c.text for c in await doc_store.chunks(owner, ids)] == ["one", "two"]

    second = await doc_store.put(owner, NewDocument("d", "txt", b"v2"))
    assert second.version == 2 and second.indexed_version == 1
    assert await doc_store.content(owner, "d", 1) is None  # superseded
    await doc_store.replace_chunks(owner, "d", 2, chunks("three"), pages=1)
    assert len(await doc_store.chunks(owner, ids)) == 2  # v1 still served meanwhile
    assert sorted(await doc_store.promote(owner, "d", 2)) == sorted(ids)
    assert await doc_store.chunks(owner, ids) == []
    doc = await doc_store.get(owner, "d")
    assert doc is not None and (doc.chunks, doc.status, doc.indexed_version) == (1, "ready", 2)
    assert await doc_store.promote(owner, "d", 1) is None  # a late, superseded step: no-op


async def test_delete_returns_the_chunk_ids_and_chunks_are_owned(
    doc_store: SqlDocumentStore,
) -> None:
    await doc_store.put("t:a", NewDocument("d", "txt", b"x"))
    await doc_store.replace_chunks("t:a", "d", 1, chunks("a", "b"), pages=1)
    await doc_store.promote("t:a", "d", 1)
    ids = [cid for cid, _ in await doc_store.unembedded("t:a", "d", 1, 10)]
    assert await doc_store.chunks("t:b", ids) == []  # another owner cannot read them by id
    assert sorted(await doc_store.delete("t:a", "d") or []) == sorted(ids)
    assert await doc_store.get("t:a", "d") is None
    assert await doc_store.chunks("t:a", ids) == []
