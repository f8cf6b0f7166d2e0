"""Usage rows count cache hits and the cost they saved (the reply cache answers them free).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_daily") as batch:
        batch.add_column(sa.Column("cache_hits", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("saved_nanousd", sa.BigInteger, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_daily") as batch:
        batch.drop_column("saved_nanousd")
        batch.drop_column("cache_hits")
