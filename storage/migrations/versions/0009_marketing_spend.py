"""marketing spend

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "marketing_spend",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("entered_by", sa.BigInteger(), nullable=False),
        sa.Column("entered_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_marketing_spend_amount_not_negative")),
        sa.PrimaryKeyConstraint("source_id", "month", name=op.f("pk_marketing_spend")),
    )


def downgrade() -> None:
    op.drop_table("marketing_spend")
