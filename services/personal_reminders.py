"""A manager's own reminders: "call back tomorrow at 11", on a deal or on nothing in particular.
They are reminder rows like the deadline ones (same engine, same exactly-once sending), owned by
the person who set them: only they see, move or cancel them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from domain.clock import Clock
from domain.deal import MAX_COMMENT_LENGTH
from domain.errors import PermissionDenied
from domain.horizon import beyond_horizon
from domain.reminders import Audience, PlannedReminder, Reminder, ReminderKind, ReminderStatus
from domain.roles import Action, require
from services.access import load_deal
from services.staff import Actor
from services.unit_of_work import UnitOfWork

MAX_PENDING = 200
"""Pending personal reminders one person may have (a runaway script must not fill the table)."""


class ReminderProblem(Exception):
    """Why a reminder cannot be set: `reason` is "past", "too_far" (domain/horizon.py),
    "too_many" or "not_found"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PersonalReminder:
    id: int
    at: dt.datetime
    text: str
    deal_id: int | None


async def set_reminder(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    at: dt.datetime,
    text: str,
    deal_id: int | None = None,
) -> PersonalReminder:
    require(actor.role, Action.VIEW_OWN_DEALS)
    now = clock.now()
    _check_time(at, now)
    text = text.strip()[:MAX_COMMENT_LENGTH]
    async with uow:
        if deal_id is not None:
            await load_deal(uow, actor, deal_id, write=False)
        if len(await uow.reminders.pending_personal(actor.user_id)) >= MAX_PENDING:
            raise ReminderProblem("too_many")
        key = f"personal:{actor.user_id}:{uuid.uuid4().hex}"
        await uow.reminders.plan(
            [
                PlannedReminder(
                    key=key,
                    kind=ReminderKind.PERSONAL,
                    audience=Audience.STAFF,
                    due_at=at,
                    deal_id=deal_id,
                    staff_id=actor.user_id,
                    text=text,
                )
            ],
            now,
        )
        await uow.commit()
        rows = await uow.reminders.pending_personal(actor.user_id)
        row = next(row for row in rows if row.key == key)
        return _view(row)


async def my_reminders(uow: UnitOfWork, actor: Actor) -> list[PersonalReminder]:
    async with uow:
        return [_view(row) for row in await uow.reminders.pending_personal(actor.user_id)]


async def move_reminder(
    uow: UnitOfWork, clock: Clock, actor: Actor, reminder_id: int, at: dt.datetime
) -> PersonalReminder:
    _check_time(at, clock.now())
    async with uow:
        moved = dataclasses.replace(await _own(uow, actor, reminder_id), due_at=at)
        await uow.reminders.save(moved)
        await uow.commit()
        return _view(moved)


async def cancel_reminder(uow: UnitOfWork, actor: Actor, reminder_id: int) -> PersonalReminder:
    async with uow:
        cancelled = dataclasses.replace(
            await _own(uow, actor, reminder_id), status=ReminderStatus.CANCELLED
        )
        await uow.reminders.save(cancelled)
        await uow.commit()
        return _view(cancelled)


async def _own(uow: UnitOfWork, actor: Actor, reminder_id: int) -> Reminder:
    """A pending personal reminder of this person; ids come from buttons and can be forged."""
    row = await uow.reminders.get(reminder_id)
    if row is None or row.status is not ReminderStatus.PENDING:
        raise ReminderProblem("not_found")
    if row.staff_id != actor.user_id or row.kind is not ReminderKind.PERSONAL:
        raise PermissionDenied(Action.VIEW_OWN_DEALS, actor.role)
    return row


def _check_time(at: dt.datetime, now: dt.datetime) -> None:
    if at <= now:
        raise ReminderProblem("past")
    if beyond_horizon(at, now):
        raise ReminderProblem("too_far")


def _view(row: Reminder) -> PersonalReminder:
    return PersonalReminder(row.id, row.due_at, row.text or "", row.deal_id)
