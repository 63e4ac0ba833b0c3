"""deals keep their stage deadline

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Deals stored before this revision get their deadline when they next change stage; until
    # then the overdue figures leave them out (the deadline needs the book's working calendar).
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deadline_at", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_deals_status_deadline", ["status", "deadline_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_status_deadline")
        batch_op.drop_column("deadline_at")
