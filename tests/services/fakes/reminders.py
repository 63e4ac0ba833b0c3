"""Reminders in memory: planned once by key, claimed, marked, as `storage.repositories.reminders`
does it in SQL."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from domain.reminders import (
    OUTBOX_KINDS,
    PlannedReminder,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from tests.services.fakes.copies import existing


@dataclass
class StoredReminder:
    reminder: Reminder
    claimed_by: str | None = None
    claimed_at: dt.datetime | None = None
    late: bool = False


class FakeReminders:
    def __init__(self) -> None:
        self.by_id: dict[int, StoredReminder] = {}

    @property
    def all(self) -> list[Reminder]:
        """Every reminder stored, in the order planned."""
        return [self.by_id[key].reminder for key in sorted(self.by_id)]

    async def plan(self, planned: Sequence[PlannedReminder], now: dt.datetime) -> None:
        keys = {stored.reminder.key for stored in self.by_id.values()}
        for plan in planned:
            if plan.key in keys:
                continue
            keys.add(plan.key)
            reminder = Reminder(
                id=max(self.by_id, default=0) + 1,
                key=plan.key,
                kind=plan.kind,
                audience=plan.audience,
                due_at=plan.due_at,
                status=ReminderStatus.PENDING,
                deal_id=plan.deal_id,
                staff_id=plan.staff_id,
                text=plan.text,
                stage_id=plan.stage_id,
                stage_entered_at=plan.stage_entered_at,
                payload=copy.deepcopy(plan.payload),
            )
            self.by_id[reminder.id] = StoredReminder(reminder)

    async def has_personal(self, deal_id: int) -> bool:
        return any(r.deal_id == deal_id and r.kind is ReminderKind.PERSONAL for r in self.all)

    async def claim(
        self,
        now: dt.datetime,
        claimant: str,
        limit: int,
        lease: dt.timedelta,
        kinds: Collection[ReminderKind] | None = None,
    ) -> list[Reminder]:
        def claimable(stored: StoredReminder) -> bool:
            reminder = stored.reminder
            if reminder.due_at > now or (kinds is not None and reminder.kind not in kinds):
                return False
            if reminder.status is ReminderStatus.PENDING:
                return True
            expired = stored.claimed_at is not None and stored.claimed_at < now - lease
            return reminder.status is ReminderStatus.CLAIMED and expired

        due = sorted(
            (s for s in self.by_id.values() if claimable(s)),
            key=lambda s: (s.reminder.due_at, s.reminder.id),
        )[:limit]
        for stored in due:
            stored.reminder = dataclasses.replace(
                stored.reminder,
                status=ReminderStatus.CLAIMED,
                attempts=stored.reminder.attempts + 1,
            )
            stored.claimed_by, stored.claimed_at = claimant, now
        return [stored.reminder for stored in due]

    async def finish(
        self,
        reminder_id: int,
        claimant: str,
        status: ReminderStatus,
        now: dt.datetime,
        *,
        late: bool = False,
    ) -> bool:
        stored = self.by_id.get(reminder_id)
        if stored is None or stored.claimed_by != claimant:
            return False
        current = stored.reminder.status
        if status is ReminderStatus.SENT:
            still_open = current is not ReminderStatus.SENT
        else:
            still_open = current is ReminderStatus.CLAIMED
        if still_open:
            stored.reminder = dataclasses.replace(stored.reminder, status=status)
            stored.late = late
        return still_open

    async def take(self, key: str, now: dt.datetime) -> bool:
        for stored in self.by_id.values():
            reminder = stored.reminder
            if reminder.key == key and reminder.status is ReminderStatus.PENDING:
                stored.reminder = dataclasses.replace(reminder, status=ReminderStatus.SENT)
                return True
        return False

    async def release(self, reminder_id: int, claimant: str, due_at: dt.datetime) -> None:
        stored = self.by_id.get(reminder_id)
        if (
            stored is not None
            and stored.claimed_by == claimant
            and stored.reminder.status is ReminderStatus.CLAIMED
        ):
            self._release(stored, due_at)

    async def drop_pending(self, deal_id: int, kinds: Sequence[str]) -> None:
        for stored in self.by_id.values():
            reminder = stored.reminder
            if (
                reminder.deal_id == deal_id
                and reminder.status is ReminderStatus.PENDING
                and reminder.kind.value in kinds
            ):
                stored.reminder = dataclasses.replace(reminder, status=ReminderStatus.DROPPED)

    async def cancel_for_staff(self, staff_id: int) -> int:
        cancelled = 0
        for stored in self.by_id.values():
            reminder = stored.reminder
            if reminder.staff_id == staff_id and reminder.status is ReminderStatus.PENDING:
                stored.reminder = dataclasses.replace(reminder, status=ReminderStatus.CANCELLED)
                cancelled += 1
        return cancelled

    async def release_all_claims(self) -> int:
        claimed = [s for s in self.by_id.values() if s.reminder.status is ReminderStatus.CLAIMED]
        for stored in claimed:
            self._release(stored, stored.reminder.due_at)
        return len(claimed)

    async def get(self, reminder_id: int) -> Reminder | None:
        stored = self.by_id.get(reminder_id)
        return stored.reminder if stored else None

    async def save(self, reminder: Reminder) -> None:
        stored = existing(self.by_id, reminder.id)
        stored.reminder = dataclasses.replace(
            stored.reminder, due_at=reminder.due_at, status=reminder.status, text=reminder.text
        )

    async def pending_personal(self, staff_id: int) -> list[Reminder]:
        mine = [
            r
            for r in self.all
            if r.staff_id == staff_id
            and r.kind is ReminderKind.PERSONAL
            and r.status is ReminderStatus.PENDING
        ]
        return sorted(mine, key=lambda r: (r.due_at, r.id))

    async def upcoming_for_deal(
        self, deal_id: int, now: dt.datetime, viewer_id: int, limit: int
    ) -> list[Reminder]:
        upcoming = [
            r
            for r in self.all
            if r.deal_id == deal_id
            and r.status is ReminderStatus.PENDING
            and r.kind not in OUTBOX_KINDS
            and r.due_at >= now
            and r.staff_id in (None, viewer_id)
        ]
        return sorted(upcoming, key=lambda r: (r.due_at, r.id))[:limit]

    @staticmethod
    def _release(stored: StoredReminder, due_at: dt.datetime) -> None:
        stored.reminder = dataclasses.replace(
            stored.reminder, status=ReminderStatus.PENDING, due_at=due_at
        )
        stored.claimed_by = stored.claimed_at = None
