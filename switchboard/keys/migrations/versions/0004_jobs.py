"""Background jobs (state and results outlive the broker) and response feedback.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.keys.tables import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(500), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("callback_url", sa.String(2000), nullable=True),
        sa.Column("callback_status", sa.String(16), nullable=True),
        sa.Column("chain", sa.JSON, nullable=True),
        sa.Column("root_id", sa.String(40), nullable=True),
        sa.Column("next_id", sa.String(40), nullable=True),
        sa.Column("lease_token", sa.String(40), nullable=True),
        sa.Column("lease_until", UtcDateTime, nullable=True),
        sa.Column("not_before", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_jobs_owner_created", "jobs", ["owner", "created_at"])
    op.create_index("ix_jobs_owner_idempotency", "jobs", ["owner", "idempotency_key"], unique=True)
    op.create_index("ix_jobs_status_priority", "jobs", ["status", "priority"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("owner", sa.String(500), nullable=False),
        sa.Column("response_id", sa.String(200), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_feedback_owner_response", "feedback", ["owner", "response_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("jobs")
