"""The document and chunk tables (SQLAlchemy Core), SQLite and PostgreSQL alike.

They live in the key store's MetaData and Alembic chain (`keys/migrations`, revision 0003), so
one database and one `migrate` serve both. Every row carries its `owner` (the tenant) in the
primary key: a lookup without the owner cannot be written.

A document has a `version`, bumped by each (re-)ingestion, and an `indexed_version`, the one
retrieval serves: a re-ingestion's chunks are written beside the old ones and replace them in
one step once they are embedded and indexed (`SqlDocumentStore.promote`).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from switchboard.keys.tables import UtcDateTime, metadata

documents = Table(
    "documents",
    metadata,
    Column("owner", String(200), nullable=False),
    Column("id", String(64), nullable=False),
    Column("title", String(500), nullable=True),
    Column("filename", String(500), nullable=True),
    Column("format", String(16), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("meta", JSON, nullable=True),
    Column("version", Integer, nullable=False),
    Column("indexed_version", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("chunks", Integer, nullable=False),
    Column("tokens", Integer, nullable=False),
    Column("pages", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("owner", "id", name="pk_documents"),
    Index("ix_documents_owner_created", "owner", "created_at"),
)

document_chunks = Table(
    "document_chunks",
    metadata,
    Column("owner", String(200), nullable=False),
    Column("chunk_id", String(100), nullable=False),
    Column("document_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("page", Integer, nullable=True),
    Column("text", Text, nullable=False),
    Column("tokens", Integer, nullable=False),
    Column("embedding", LargeBinary, nullable=True),  # float32 bytes; rebuilds the index
    PrimaryKeyConstraint("owner", "chunk_id", name="pk_document_chunks"),
    Index("ix_document_chunks_document", "owner", "document_id", "version"),
)
