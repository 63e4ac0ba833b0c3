"""SQLAlchemy 2 typed models: the tables behind the domain.

Instants are stored as timezone-aware UTC (`DateTime(timezone=True)`); SQLite keeps no zone, so
`UtcDateTime` puts it back on the way out. Relationships are not declared: repositories load what
they need with explicit queries, so async code never triggers a lazy load.
"""

# No `from __future__ import annotations` here: SQLAlchemy would evaluate each of the ~370
# `Mapped[...]` strings with eval() when it maps the classes, a fifth of this module's import.
import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC instant")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UtcDateTime, dict[str, Any]: JSON}


class StaffRow(Base):
    """A person with a staff role. Leads are not stored here: they live in `contacts`, and only
    after they consented."""

    __tablename__ = "staff"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    """False once Telegram answered 403: the person blocked the bot."""
    joined_at: Mapped[dt.datetime]
    deactivated_at: Mapped[dt.datetime | None]


class StaffPipeline(Base):
    """Which pipelines a manager serves (round robin picks among these)."""

    __tablename__ = "staff_pipelines"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.telegram_id", ondelete="CASCADE"), primary_key=True
    )
    pipeline_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class InviteRow(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("staff.telegram_id"))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[dt.datetime | None]


class ContactRow(Base):
    """A lead's contact card; personal fields are emptied on erasure, the row stays."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    company: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(8))
    consent_at: Mapped[dt.datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    erased_at: Mapped[dt.datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    """A manager confirmed this Telegram account is the same client as that contact: its
    requests are filed there (each deal keeps its own chat)."""


class DealRow(Base):
    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_manager_status", "manager_id", "status"),
        Index("ix_deals_pipeline_created", "pipeline_id", "created_at"),
        Index("ix_deals_status_closed", "status", "closed_at"),
        Index("ix_deals_created", "created_at"),
        Index("ix_deals_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    pipeline_id: Mapped[str] = mapped_column(String(32))
    stage_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(8))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.telegram_id"))
    lead_chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """The private chat the request came from: the channel to the lead (None once erased)."""
    source: Mapped[str] = mapped_column(String(64), default="unknown")
    need: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    lost_reason_id: Mapped[str | None] = mapped_column(String(32))
    close_comment: Mapped[str | None] = mapped_column(Text)
    qualification_level: Mapped[str | None] = mapped_column(String(16))
    qualification_points: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    stage_entered_at: Mapped[dt.datetime]
    first_response_due_at: Mapped[dt.datetime | None]
    taken_at: Mapped[dt.datetime | None]
    """When a manager took the deal: the first-response clock stops here."""
    closed_at: Mapped[dt.datetime | None]
    snoozed_until: Mapped[dt.datetime | None]
    """The manager paused the deal's clock until then (client on vacation): not overdue."""
    deadline_at: Mapped[dt.datetime | None]
    """The current stage's deadline (working time), for counting overdue deals in SQL."""
    snooze_reason: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    is_sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A /training deal: only its trainee sees it, and no figure, list or reminder counts it."""
    same_phone_as: Mapped[int | None] = mapped_column(Integer)
    """Another client's deal whose phone this request typed (a claim, not a proof): shown to
    the manager, who may merge the two clients."""


class StageTransitionRow(Base):
    """Who moved which deal from where to where, when and why: the basis of conversion and
    cycle-time figures."""

    __tablename__ = "stage_transitions"
    __table_args__ = (Index("ix_stage_transitions_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime]
    comment: Mapped[str | None] = mapped_column(Text)
    override: Mapped[bool] = mapped_column(Boolean, default=False)


class ActivityRow(Base):
    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_deal_at", "deal_id", "at"),
        Index("ix_activities_author_at", "author_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime]
    comment: Mapped[str | None] = mapped_column(Text)


class TrainingRow(Base):
    """A staff member's walk through /training on their own sandbox deal."""

    __tablename__ = "training"

    staff_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime]
    opened_at: Mapped[dt.datetime | None]
    """When the trainee first opened the sandbox deal's card."""
    completed_at: Mapped[dt.datetime | None]


class ProposalFigureRow(Base):
    """A figure the manager entered for a deal's commercial proposal (team size, hours lost a
    week, an hour's cost), kept so the next proposal asks only what is missing."""

    __tablename__ = "proposal_figures"

    deal_id: Mapped[int] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True
    )
    input_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    entered_by: Mapped[int] = mapped_column(BigInteger)
    entered_at: Mapped[dt.datetime]


class MarketingSpendRow(Base):
    """What a lead source cost in a month, as a supervisor entered it (/spend): one row per
    source and month, replaced when entered again."""

    __tablename__ = "marketing_spend"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    """The 1st of the month."""
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    entered_by: Mapped[int] = mapped_column(BigInteger)
    entered_at: Mapped[dt.datetime]


class DealMessageRow(Base):
    """A message relayed between a lead and the assigned manager."""

    __tablename__ = "deal_messages"
    __table_args__ = (
        Index("ix_deal_messages_deal_at", "deal_id", "at"),
        Index("ix_deal_messages_relay", "relay_chat_id", "relay_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime]
    relay_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    relay_message_id: Mapped[int | None] = mapped_column(BigInteger)
    """Where the relayed copy landed, so a reply to it finds its deal."""


class CardMessageRow(Base):
    """The deal card a staff member last opened in the chat: a change made in the Mini App
    edits that message, so the chat shows what the board shows."""

    __tablename__ = "card_messages"

    deal_id: Mapped[int] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)


class QualificationAnswerRow(Base):
    __tablename__ = "qualification_answers"
    __table_args__ = (UniqueConstraint("deal_id", "framework_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    framework_id: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[str] = mapped_column(String(32))
    option_index: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime]


class ReassignmentRow(Base):
    """A deal handed to another manager: who had it, who has it now, who decided, when."""

    __tablename__ = "reassignments"
    __table_args__ = (Index("ix_reassignments_deal_at", "deal_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    from_manager_id: Mapped[int | None] = mapped_column(BigInteger)
    to_manager_id: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime]


class ReminderRow(Base):
    """Something to tell someone at a given time. The database, not the scheduler's memory, is
    the source of truth: a row is claimed, sent and marked, so it fires once across restarts and
    instances (see services/reminders.py)."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_due", "status", "due_at"),
        Index("ix_reminders_deal", "deal_id"),
        Index("ix_reminders_staff_status", "staff_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    """What the reminder is about, unique: planning the same reminder twice stores one row."""
    kind: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(12))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    """For a personal reminder: whose it is."""
    text: Mapped[str | None] = mapped_column(Text)
    stage_id: Mapped[str | None] = mapped_column(String(32))
    stage_entered_at: Mapped[dt.datetime | None]
    """The stage visit a stage reminder belongs to: once the deal moves, it no longer fires."""
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(10))
    claimed_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    payload: Mapped[dict[str, Any] | None]
    """An outbox message's facts from the transaction that owed it (who handed what to whom),
    rendered in the recipient's language when it is sent."""


class AssignmentCursor(Base):
    """The round robin's memory: who got the last lead of a pipeline."""

    __tablename__ = "assignment_cursors"

    pipeline_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_manager_id: Mapped[int | None] = mapped_column(BigInteger)


class FsmStateRow(Base):
    """A conversation's state (aiogram FSM), kept in the database so a restart loses nothing."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime]


class ScriptUseRow(Base):
    """An objection answer shown to a manager (A/B variant) and whether it helped; joined with
    the deal's later result, it tells which variant wins."""

    __tablename__ = "script_uses"
    __table_args__ = (Index("ix_script_uses_objection_variant", "objection_id", "variant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objection_id: Mapped[str] = mapped_column(String(32))
    variant_id: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[int] = mapped_column(BigInteger)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime]
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[dt.datetime | None]


class InboxRow(Base):
    """An update already handled (webhook mode): its id is written in the transaction that
    carries the update's changes, so a delivery of it again (Telegram retries, perhaps to
    another instance) has no effect twice."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[dt.datetime]


class BusinessConnectionRow(Base):
    """The bot connected to a staff member's own Telegram account (Telegram Business)."""

    __tablename__ = "business_connections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_chat_id: Mapped[int] = mapped_column(BigInteger)
    can_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    rights: Mapped[dict[str, Any] | None]
    """The account's grants as Telegram sent them (`BusinessBotRights`)."""
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    connected_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class BusinessChatRow(Base):
    """A client's chat with a connected manager: its deal, or the manager's decision owed."""

    __tablename__ = "business_chats"
    __table_args__ = (UniqueConstraint("staff_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger)
    client_id: Mapped[int] = mapped_column(BigInteger, index=True)
    connection_id: Mapped[str] = mapped_column(String(64))
    client_name: Mapped[str | None] = mapped_column(String(128))
    client_username: Mapped[str | None] = mapped_column(String(64))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    first_in_at: Mapped[dt.datetime]
    first_reply_at: Mapped[dt.datetime | None]
    offered_at: Mapped[dt.datetime | None]
    declined_at: Mapped[dt.datetime | None]


class BusinessMessageRow(Base):
    """A message of a logged business chat, or its edit or deletion (each a row of its own).
    `deal_id` is None while the manager has not decided whether the chat is a deal."""

    __tablename__ = "business_messages"
    __table_args__ = (
        Index("ix_business_messages_deal_at", "deal_id", "at"),
        Index("ix_business_messages_chat_message", "chat_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("business_chats.id", ondelete="CASCADE"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(8))
    change: Mapped[str] = mapped_column(String(8), default="sent")
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime]
