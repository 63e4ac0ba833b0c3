"""training: sandbox deals and each person's walk through /training

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_sandbox", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "training",
        sa.Column("staff_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("started_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_training_deal_id_deals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_training")),
    )


def downgrade() -> None:
    op.drop_table("training")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("is_sandbox")
