"""reassignments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reassignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("from_manager_id", sa.BigInteger(), nullable=True),
        sa.Column("to_manager_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_reassignments_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reassignments")),
    )
    with op.batch_alter_table("reassignments", schema=None) as batch_op:
        batch_op.create_index("ix_reassignments_deal_at", ["deal_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reassignments", schema=None) as batch_op:
        batch_op.drop_index("ix_reassignments_deal_at")
    op.drop_table("reassignments")
