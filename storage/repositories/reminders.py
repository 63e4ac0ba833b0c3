"""Reminder rows: planned once, claimed by one sender, marked once sent.

Claiming is one transaction: pick due rows (and rows whose claim has expired, i.e. whose sender
died before marking them) and stamp them with the claimant. On PostgreSQL the pick takes row
locks with `FOR UPDATE SKIP LOCKED`, so several instances claim disjoint rows without waiting
for each other; SQLite has one writer at a time anyway. The stamping `UPDATE` repeats the
condition, so a row another claimant got first is never claimed twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import cast

from sqlalchemy import Table, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from domain.reminders import (
    OUTBOX_KINDS,
    Audience,
    PlannedReminder,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from storage.models import ReminderRow
from storage.upserts import upsert

_PLAN = upsert(
    ReminderRow,
    columns=[
        "key",
        "kind",
        "audience",
        "deal_id",
        "staff_id",
        "text",
        "stage_id",
        "stage_entered_at",
        "due_at",
        "status",
        "attempts",
        "late",
        "created_at",
        "payload",
    ],
    conflict=["key"],
)

_UNSENT = (ReminderStatus.PENDING.value, ReminderStatus.CLAIMED.value)
# Built once (every request takes its lead's answer): on the table, so the session runs it as
# plain SQL without the ORM's bulk-update bookkeeping, which cost more than the statement.
_REMINDERS = cast(Table, ReminderRow.__table__)
_reminders = _REMINDERS.c
_TAKE = (
    update(_REMINDERS)
    .where(
        _reminders.key == bindparam("reminder_key"),
        _reminders.status == ReminderStatus.PENDING.value,
    )
    .values(status=ReminderStatus.SENT.value, sent_at=bindparam("now"))
)


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[int, ReminderRow] = {}
        self.owes_messages = False
        """Outbox messages were planned in this transaction: once it commits, wake the sender."""

    async def plan(self, planned: Sequence[PlannedReminder], now: dt.datetime) -> None:
        """Store what is not stored yet (by key): planning the same thing twice is harmless."""
        if not planned:
            return
        if any(plan.kind in OUTBOX_KINDS for plan in planned):
            self.owes_messages = True
        # One constant statement with the rows as parameters, compiled once (storage/upserts.py).
        await self._session.execute(
            _PLAN,
            [
                {
                    "key": plan.key,
                    "kind": plan.kind.value,
                    "audience": plan.audience.value,
                    "deal_id": plan.deal_id,
                    "staff_id": plan.staff_id,
                    "text": plan.text,
                    "stage_id": plan.stage_id,
                    "stage_entered_at": plan.stage_entered_at,
                    "due_at": plan.due_at,
                    "status": ReminderStatus.PENDING.value,
                    "attempts": 0,
                    "late": False,
                    "created_at": now,
                    "payload": plan.payload,
                }
                for plan in planned
            ],
        )

    async def depths(self, now: dt.datetime) -> tuple[int, int]:
        """For the metrics: reminders due and not yet sent, and the outbox's unsent messages."""
        waiting = (ReminderRow.status.in_(_UNSENT)) & (ReminderRow.due_at <= now)
        outbox = ReminderRow.kind.in_([kind.value for kind in OUTBOX_KINDS])
        row = (
            await self._session.execute(
                select(
                    func.count().filter(waiting & ~outbox),
                    func.count().filter(waiting & outbox),
                ).select_from(ReminderRow)
            )
        ).one()
        return int(row[0]), int(row[1])

    async def has_personal(self, deal_id: int) -> bool:
        """Whether anyone set a personal reminder on this deal."""
        return bool(
            await self._session.scalar(
                select(
                    exists().where(
                        ReminderRow.deal_id == deal_id,
                        ReminderRow.kind == ReminderKind.PERSONAL.value,
                    )
                )
            )
        )

    async def claim(
        self,
        now: dt.datetime,
        claimant: str,
        limit: int,
        lease: dt.timedelta,
        kinds: Collection[ReminderKind] | None = None,
    ) -> list[Reminder]:
        """Claim up to `limit` due reminders (of `kinds`, or any), the earliest first. The
        caller commits."""
        claimable = _claimable(now, lease)
        if kinds is not None:
            claimable = and_(claimable, ReminderRow.kind.in_(sorted(kind.value for kind in kinds)))
        pick = (
            select(ReminderRow.id)
            .where(claimable)
            .order_by(ReminderRow.due_at, ReminderRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(await self._session.scalars(pick))
        if not ids:
            return []
        stamp = (
            update(ReminderRow)
            .where(ReminderRow.id.in_(ids), claimable)
            .values(
                status=ReminderStatus.CLAIMED.value,
                claimed_at=now,
                claimed_by=claimant,
                attempts=ReminderRow.attempts + 1,
            )
            .returning(ReminderRow)
            .execution_options(synchronize_session=False)
        )
        rows = sorted(await self._session.scalars(stamp), key=lambda row: (row.due_at, row.id))
        return [_reminder_from_row(row) for row in rows]

    async def finish(
        self,
        reminder_id: int,
        claimant: str,
        status: ReminderStatus,
        now: dt.datetime,
        *,
        late: bool = False,
    ) -> bool:
        """Mark a claimed reminder done, in one statement: the window between Telegram's
        answer and this write is the only place a crash can repeat a message. A reminder sent
        to several people is marked as each send ends; "sent" is never undone by another
        recipient's failure. False if nothing changed (already marked, or the claim was lost
        to another sender after its lease ran out)."""
        if status is ReminderStatus.SENT:
            still_open = ReminderRow.status != ReminderStatus.SENT.value
        else:
            still_open = ReminderRow.status == ReminderStatus.CLAIMED.value
        result = await self._session.execute(
            update(ReminderRow)
            .where(ReminderRow.id == reminder_id, ReminderRow.claimed_by == claimant, still_open)
            .values(status=status.value, sent_at=now, late=late)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def take(self, key: str, now: dt.datetime) -> bool:
        """Take a pending row to send it now, outside the sweep (the lead's answer by the bot
        that filed the request): False if a sweeper has it already."""
        result = await self._session.execute(_TAKE, {"reminder_key": key, "now": now})
        return bool(getattr(result, "rowcount", 0))

    async def release(self, reminder_id: int, claimant: str, due_at: dt.datetime) -> None:
        """Give a claimed reminder back, due again at `due_at` (a snooze, a failed send)."""
        await self._session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.id == reminder_id,
                ReminderRow.claimed_by == claimant,
                ReminderRow.status == ReminderStatus.CLAIMED.value,
            )
            .values(
                status=ReminderStatus.PENDING.value,
                due_at=due_at,
                claimed_at=None,
                claimed_by=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def drop_pending(self, deal_id: int, kinds: Sequence[str]) -> None:
        """The deal changed so these reminders no longer hold (a stage left, a lead taken).
        Only pending rows: a claimed one is checked against the deal when it is sent."""
        await self._session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.deal_id == deal_id,
                ReminderRow.status == ReminderStatus.PENDING.value,
                ReminderRow.kind.in_(list(kinds)),
            )
            .values(status=ReminderStatus.DROPPED.value)
            .execution_options(synchronize_session=False)
        )

    async def cancel_for_staff(self, staff_id: int) -> int:
        """A person blocked the bot: their own pending reminders stop."""
        result = await self._session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.staff_id == staff_id,
                ReminderRow.status == ReminderStatus.PENDING.value,
            )
            .values(status=ReminderStatus.CANCELLED.value)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def release_all_claims(self) -> int:
        """Give back every claimed row: for a start on SQLite, where only one process runs, so
        whatever is claimed was claimed by a process that died before marking it."""
        result = await self._session.execute(
            update(ReminderRow)
            .where(ReminderRow.status == ReminderStatus.CLAIMED.value)
            .values(status=ReminderStatus.PENDING.value, claimed_at=None, claimed_by=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def get(self, reminder_id: int) -> Reminder | None:
        row = await self._session.get(ReminderRow, reminder_id)
        if row is None:
            return None
        self._loaded[reminder_id] = row
        return _reminder_from_row(row)

    async def save(self, reminder: Reminder) -> None:
        """Keep a person's change to a reminder they read: when it is due, whether it stands."""
        row = self._loaded.get(reminder.id) or await self._session.get(ReminderRow, reminder.id)
        if row is None:
            raise LookupError(reminder.id)
        row.due_at, row.status, row.text = reminder.due_at, reminder.status.value, reminder.text

    async def pending_personal(self, staff_id: int) -> list[Reminder]:
        """The person's own pending reminders (/reminders): not their digest, nudge or the
        cards and notes the outbox owes them, which carry their id too."""
        query = (
            select(ReminderRow)
            .where(
                ReminderRow.staff_id == staff_id,
                ReminderRow.kind == ReminderKind.PERSONAL.value,
                ReminderRow.status == ReminderStatus.PENDING.value,
            )
            .order_by(ReminderRow.due_at, ReminderRow.id)
        )
        return [_reminder_from_row(row) for row in await self._session.scalars(query)]

    async def upcoming_for_deal(
        self, deal_id: int, now: dt.datetime, viewer_id: int, limit: int
    ) -> list[Reminder]:
        """The deal's next pending reminders, the soonest first, for the card's "next reminder"
        line: its deadline reminders, and the viewer's own personal ones (not a colleague's). A
        message the outbox still owes (the card, a note to the client) is not a reminder."""
        query = (
            select(ReminderRow)
            .where(
                ReminderRow.deal_id == deal_id,
                ReminderRow.status == ReminderStatus.PENDING.value,
                ReminderRow.kind.not_in([kind.value for kind in OUTBOX_KINDS]),
                ReminderRow.due_at >= now,
                or_(ReminderRow.staff_id.is_(None), ReminderRow.staff_id == viewer_id),
            )
            .order_by(ReminderRow.due_at, ReminderRow.id)
            .limit(limit)
        )
        return [_reminder_from_row(row) for row in await self._session.scalars(query)]


def _claimable(now: dt.datetime, lease: dt.timedelta) -> ColumnElement[bool]:
    """Due and pending, or claimed by someone whose lease ran out. A claimed row was due when
    it was claimed, so both halves are ranges of the (status, due_at) index: a tick costs what
    is due, not what is planned."""
    return and_(
        ReminderRow.status.in_([ReminderStatus.PENDING.value, ReminderStatus.CLAIMED.value]),
        ReminderRow.due_at <= now,
        or_(
            ReminderRow.status == ReminderStatus.PENDING.value,
            ReminderRow.claimed_at < now - lease,
        ),
    )


def _reminder_from_row(row: ReminderRow) -> Reminder:
    return Reminder(
        id=row.id,
        key=row.key,
        kind=ReminderKind(row.kind),
        audience=Audience(row.audience),
        due_at=row.due_at,
        status=ReminderStatus(row.status),
        deal_id=row.deal_id,
        staff_id=row.staff_id,
        text=row.text,
        stage_id=row.stage_id,
        stage_entered_at=row.stage_entered_at,
        attempts=row.attempts,
        payload=row.payload,
    )
