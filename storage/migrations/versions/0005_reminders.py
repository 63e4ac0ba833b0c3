"""reminders and snoozes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("stage_id", sa.String(length=32), nullable=True),
        sa.Column("stage_entered_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("due_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_reminders_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("key", name=op.f("uq_reminders_key")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_reminders_deal", ["deal_id"], unique=False)
        batch_op.create_index("ix_reminders_staff_status", ["staff_id", "status"], unique=False)
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("snoozed_until", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("snooze_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("snooze_reason")
        batch_op.drop_column("snoozed_until")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_staff_status")
        batch_op.drop_index("ix_reminders_deal")
        batch_op.drop_index("ix_reminders_status_due")
    op.drop_table("reminders")
