"""an index for activity targets

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A day's activities per person (targets, /my, the nudge): a range of this index.
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index("ix_activities_author_at", ["author_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_author_at")
