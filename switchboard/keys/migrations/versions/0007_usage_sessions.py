"""Usage per caller session and end user (Helicone-style headers, Langfuse-style metadata).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_sessions",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
        sa.Column("completion_tokens", sa.BigInteger, nullable=False),
        sa.Column("cached_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost_nanousd", sa.BigInteger, nullable=False),
        sa.Column("cache_hits", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("saved_nanousd", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint(
            "key_id", "tenant", "model", "day", "session_id", "user_id", name="pk_usage_sessions"
        ),
    )
    op.create_index("ix_usage_sessions_session", "usage_sessions", ["session_id"])
    op.create_index("ix_usage_sessions_user_day", "usage_sessions", ["user_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_usage_sessions_user_day", table_name="usage_sessions")
    op.drop_index("ix_usage_sessions_session", table_name="usage_sessions")
    op.drop_table("usage_sessions")
