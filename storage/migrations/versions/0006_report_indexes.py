"""an index for the period figures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New leads of a period are counted by `created_at`: a range of this index.
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index("ix_deals_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_created")
