"""business: the managers' own Telegram accounts connected to the bot (Telegram Business),
their chats with clients and the messages logged on the deals

(Numbered 0014: another branch adds 0013; whoever merges second re-chains down_revision.)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 12:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "business_connections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("user_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("can_reply", sa.Boolean(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=True),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("connected_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_connections")),
    )
    with op.batch_alter_table("business_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_business_connections_staff_id"), ["staff_id"], unique=False
        )

    op.create_table(
        "business_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("client_name", sa.String(length=128), nullable=True),
        sa.Column("client_username", sa.String(length=64), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("first_in_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("first_reply_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("offered_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("declined_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_business_chats_deal_id_deals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_chats")),
        sa.UniqueConstraint("staff_id", "client_id", name=op.f("uq_business_chats_staff_id")),
    )
    with op.batch_alter_table("business_chats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_business_chats_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "business_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["business_chats.id"],
            name=op.f("fk_business_messages_chat_id_business_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_business_messages_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_messages")),
    )
    with op.batch_alter_table("business_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_business_messages_chat_message", ["chat_id", "message_id"], unique=False
        )
        batch_op.create_index("ix_business_messages_deal_at", ["deal_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("business_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_business_messages_deal_at")
        batch_op.drop_index("ix_business_messages_chat_message")

    op.drop_table("business_messages")
    with op.batch_alter_table("business_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_chats_client_id"))

    op.drop_table("business_chats")
    with op.batch_alter_table("business_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_connections_staff_id"))

    op.drop_table("business_connections")
