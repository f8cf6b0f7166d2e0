"""The DocumentStore protocol: documents, their chunks and the chunks' embeddings, keyed by
owner. The implementation is SQL (`rag/sql_store.py`): SQLite embedded, PostgreSQL shared."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from switchboard.embeddings.base import Vectors
from switchboard.rag.chunking import Chunk
from switchboard.rag.models import Document, NewDocument, StoredChunk


class DocumentStore(Protocol):
    async def migrate(self) -> None: ...

    async def put(self, owner: str, new: NewDocument) -> Document:
        """Create the document, or replace its content (a new version, status `queued`)."""

    async def get(self, owner: str, document_id: str) -> Document | None: ...

    async def list(
        self, owner: str, limit: int = 100, after: str | None = None
    ) -> builtins.list[Document]: ...

    async def delete(self, owner: str, document_id: str) -> builtins.list[str] | None:
        """The removed chunk ids, or None when the owner has no such document."""

    async def content(self, owner: str, document_id: str, version: int) -> bytes | None:
        """The document's bytes if `version` is still its newest (None: superseded or gone)."""

    async def replace_chunks(
        self,
        owner: str,
        document_id: str,
        version: int,
        chunks: Sequence[Chunk],
        pages: int,
        title: str | None = None,
    ) -> None: ...

    async def unembedded(
        self, owner: str, document_id: str, version: int, limit: int
    ) -> builtins.list[tuple[str, str]]: ...

    async def set_embeddings(self, owner: str, ids: Sequence[str], vectors: Vectors) -> None: ...

    async def vectors(
        self, owner: str, document_id: str, version: int
    ) -> tuple[builtins.list[str], Vectors]: ...

    async def promote(
        self, owner: str, document_id: str, version: int
    ) -> builtins.list[str] | None:
        """Serve `version`; drop the other versions' chunks and return their ids (None: the
        version was superseded, nothing changed)."""

    async def set_status(
        self, owner: str, document_id: str, version: int, status: str, error: str | None = None
    ) -> None: ...

    async def chunks(self, owner: str, chunk_ids: Sequence[str]) -> builtins.list[StoredChunk]:
        """The chunks among `chunk_ids` that the owner's documents serve now."""

    async def promoted_since(
        self, since: datetime | None
    ) -> builtins.list[tuple[str, str, int, datetime]]:
        """(owner, document, served version, updated_at) of the documents served now whose
        row changed at or after `since` (all of them for None), oldest first."""

    def served_vectors(
        self, batch: int = 1000
    ) -> AsyncIterator[tuple[str, builtins.list[str], Vectors]]:
        """(owner, chunk ids, vectors) of every served chunk, to rebuild a vector index."""

    async def aclose(self) -> None: ...
