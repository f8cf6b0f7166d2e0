"""Files and batches (OpenAI's Batch API), on the key store's metadata like the job table.

A batch's lines are rows keyed by (batch, line number): a line's result and its usage are
written in one transaction, and a line already written is never run or booked again.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from switchboard.keys.tables import UtcDateTime, metadata

files = Table(
    "files",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(500), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("filename", String(500), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_files_owner_created", "owner", "created_at"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(500), nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("job_id", String(40), nullable=True),
    Column("endpoint", String(100), nullable=False),
    Column("input_file_id", String(40), nullable=False),
    Column("completion_window", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("completed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("output_file_id", String(40), nullable=True),
    Column("error_file_id", String(40), nullable=True),
    Column("reserved_micro", BigInteger, nullable=False),
    Column("reservation_hold", String(200), nullable=True),
    Column("batch_metadata", JSON, nullable=True),
    Column("errors", JSON, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("in_progress_at", UtcDateTime, nullable=True),
    Column("finalizing_at", UtcDateTime, nullable=True),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("failed_at", UtcDateTime, nullable=True),
    Column("cancelling_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_batches_owner_created", "owner", "created_at"),
)

batch_lines = Table(
    "batch_lines",
    metadata,
    Column("batch_id", String(40), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("custom_id", String(500), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("cost_nanousd", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("batch_id", "line_no", name="pk_batch_lines"),
)
