"""The plain records of the document store and of retrieval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

STATUSES = ("queued", "chunked", "embedded", "ready", "failed")
ANONYMOUS = "anonymous"  # the owner when API keys are off (as pipeline.context.ANONYMOUS)


def tenant_owner(tenant: str | None) -> str:
    """The owner of a caller's documents: its tenant (every key of a tenant shares them)."""
    return ANONYMOUS if tenant is None else f"tenant:{tenant}"


@dataclass(frozen=True, slots=True)
class NewDocument:
    id: str
    format: str  # txt | markdown | html | pdf
    content: bytes
    title: str | None = None
    filename: str | None = None
    meta: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Document:
    owner: str
    id: str
    title: str | None
    filename: str | None
    format: str
    content_sha256: str
    meta: dict[str, Any] | None
    version: int
    indexed_version: int | None
    status: str
    error: str | None
    chunks: int
    tokens: int
    pages: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredChunk:
    chunk_id: str
    document_id: str
    title: str | None
    page: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Source:
    """One retrieved chunk, as the `sources` event and `POST /v1/rag` show it."""

    chunk_id: str
    document_id: str
    title: str | None
    page: int | None
    score: float
    text: str

    def public(self, with_text: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "chunk_id": self.chunk_id,
            "document_id": self.document_id,
            "title": self.title,
            "page": self.page,
            "score": round(self.score, 6),
        }
        if with_text:
            out["text"] = self.text
        return out
