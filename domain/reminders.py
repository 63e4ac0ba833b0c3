"""Reminders as plans: what to tell whom and when, and, when the time comes, whether it still
holds. Planning happens when a deal changes (a stage entered, a lead received, a deal won); the
verdict is taken at send time against the deal as it is then, so a reminder about a stage the
deal has left, a lead already taken or a snoozed deal is dropped or postponed instead of sent;
and against the clock, so one whose moment has passed (the bot was down) is dropped rather than
sent late (`LIFETIME`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.deal import Deal, DealStatus
from domain.sales_book import FollowUpStep, Pipeline, StageReminders
from domain.working_time import WorkingCalendar

LATE_AFTER = dt.timedelta(minutes=5)
"""A reminder sent more than this after its time (the bot was down) says it is late."""


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    """Part of the stage's SLA has passed: the manager is reminded, with the card."""
    OVERDUE = "overdue"
    """The stage's deadline: the manager again, and the supervisors (a separate row)."""
    FIRST_RESPONSE = "first_resp"
    """Nobody took a new lead within the first-response SLA: the supervisors, to reassign."""
    PERSONAL = "personal"
    """A manager's own "call back tomorrow at 11"."""
    FOLLOW_UP = "follow_up"
    """A post-sale step from the book: a message to the client or a task for the manager."""
    DIGEST = "digest"
    """A supervisor's morning digest: one row per person and local date, so once a day."""
    NUDGE = "nudge"
    """A manager below the day's activity targets, near the end of the working day: one row
    per person and local date; not sent if the targets are met by then."""
    CARD = "card"
    """Owed by a change, due at once (the outbox): a deal's card to its new manager."""
    NOTE = "note"
    """Owed by a change, due at once (the outbox): a short notice (a handover, an erasure, the
    client's "a manager took your request"), rendered from a catalogue key and its values."""
    BACKUP = "backup"
    """The daily backup of a SQLite database: one row per local date of the team, run by the
    sweeper instead of sent (services/backup.py)."""


OUTBOX_KINDS = frozenset({ReminderKind.CARD, ReminderKind.NOTE})
"""Messages a change owes someone: written in the change's transaction, sent right after it
commits, ahead of the reminders waiting for the paced sender."""
REMINDER_KINDS = frozenset(ReminderKind) - OUTBOX_KINDS
"""What the sweeper's tick sends when its time comes."""


class Lifetime(StrEnum):
    """How long a due reminder stays worth sending, however late the bot gets to it."""

    UNTIL_SENT = "until_sent"
    """Still true later: sent when the bot is back, with the "late" mark for staff."""
    ITS_DAY = "its_day"
    """About the local day it fell due on (in the recipient's zone): dropped once that day has
    ended, since at send time it would speak of the new day instead."""
    UNTIL_DEADLINE = "until_deadline"
    """A warning before the stage's deadline: dropped once the deadline has come, when the
    stage's overdue reminder (due at that very moment) says it instead."""


LIFETIME: dict[ReminderKind, Lifetime] = {
    ReminderKind.DUE_SOON: Lifetime.UNTIL_DEADLINE,
    ReminderKind.OVERDUE: Lifetime.UNTIL_SENT,
    ReminderKind.FIRST_RESPONSE: Lifetime.UNTIL_SENT,
    ReminderKind.PERSONAL: Lifetime.UNTIL_SENT,
    ReminderKind.FOLLOW_UP: Lifetime.UNTIL_SENT,
    # Yesterday's digest, sent this morning, would be today's figures twice (today's is
    # planned anyway); yesterday's nudge would count this morning's empty activity.
    ReminderKind.DIGEST: Lifetime.ITS_DAY,
    ReminderKind.NUDGE: Lifetime.ITS_DAY,
    # What a change owed someone is owed however late it can go.
    ReminderKind.CARD: Lifetime.UNTIL_SENT,
    ReminderKind.NOTE: Lifetime.UNTIL_SENT,
    ReminderKind.BACKUP: Lifetime.UNTIL_SENT,
}


class Audience(StrEnum):
    MANAGER = "manager"
    """The deal's manager at send time (a reassigned deal's reminders follow it)."""
    SUPERVISORS = "supervisors"
    STAFF = "staff"
    """One person: whoever set a personal reminder."""
    CLIENT = "client"
    BOT = "bot"
    """Nobody: the bot itself does something when it comes due (the daily backup)."""


class Verdict(StrEnum):
    SEND = "send"
    DROP = "drop"
    """No longer true (the deal moved, was taken, closed, reopened): never sent."""
    POSTPONE = "postpone"
    """The deal is snoozed: try again when the snooze ends."""


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    key: str
    """Unique per thing to remind of: planning it twice stores it once."""
    kind: ReminderKind
    audience: Audience
    due_at: dt.datetime
    deal_id: int | None
    staff_id: int | None = None
    text: str | None = None
    stage_id: str | None = None
    stage_entered_at: dt.datetime | None = None
    payload: dict[str, Any] | None = None
    """An outbox message's facts (a title, a catalogue key and its values)."""


class ReminderStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    DROPPED = "dropped"
    """No longer true when its time came (the deal moved on, was taken, closed)."""
    CANCELLED = "cancelled"
    """Cancelled by a person, or its recipient blocked the bot."""
    FAILED = "failed"
    """Telegram refused it for good (e.g. the chat is gone)."""


@dataclass(frozen=True, slots=True)
class Reminder:
    """A planned reminder as stored: what it says and to whom, and where its sending stands."""

    id: int
    key: str
    kind: ReminderKind
    audience: Audience
    due_at: dt.datetime
    status: ReminderStatus
    deal_id: int | None = None
    staff_id: int | None = None
    """For a personal reminder: whose it is."""
    text: str | None = None
    stage_id: str | None = None
    stage_entered_at: dt.datetime | None = None
    """The stage visit a stage reminder belongs to: once the deal moves, it no longer fires."""
    attempts: int = 0
    """How often it was claimed: a reminder Telegram keeps failing is given up at last."""
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    until: dt.datetime | None = None
    """For POSTPONE: when to try again."""


def plan_stage(
    deal: Deal, pipeline: Pipeline, calendar: WorkingCalendar, settings: StageReminders
) -> list[PlannedReminder]:
    """The reminders of the deal's current stage visit: one before the deadline (at the book's
    share of the SLA, counted in working time) and the overdue ones at the deadline."""
    if not deal.is_open or deal.id is None:
        return []
    stage = pipeline.stage(deal.stage_id)
    entered = deal.stage_entered_at
    deadline = deal.deadline(calendar, pipeline)
    visit = f"{deal.id}:{stage.id}:{int(entered.timestamp())}"
    plans: list[PlannedReminder] = []

    def add(kind: ReminderKind, audience: Audience, due_at: dt.datetime) -> None:
        plans.append(
            PlannedReminder(
                key=f"stage:{visit}:{kind.value}:{audience.value}",
                kind=kind,
                audience=audience,
                due_at=due_at,
                deal_id=deal.id,
                stage_id=stage.id,
                stage_entered_at=entered,
            )
        )

    if settings.before_deadline > 0:
        share = dt.timedelta(hours=stage.sla_hours * settings.before_deadline)
        add(ReminderKind.DUE_SOON, Audience.MANAGER, calendar.add_working_time(entered, share))
    add(ReminderKind.OVERDUE, Audience.MANAGER, deadline)
    if settings.overdue_to_supervisor:
        add(ReminderKind.OVERDUE, Audience.SUPERVISORS, deadline)
    return plans


def plan_first_response(deal: Deal) -> list[PlannedReminder]:
    if deal.id is None or deal.first_response_due_at is None or deal.taken_at is not None:
        return []
    return [
        PlannedReminder(
            key=f"first:{deal.id}",
            kind=ReminderKind.FIRST_RESPONSE,
            audience=Audience.SUPERVISORS,
            due_at=deal.first_response_due_at,
            deal_id=deal.id,
        )
    ]


def plan_follow_up(deal: Deal, steps: list[FollowUpStep]) -> list[PlannedReminder]:
    """The book's post-sale steps, counted in calendar days from the win."""
    if deal.id is None or deal.status is not DealStatus.WON or deal.closed_at is None:
        return []
    won_at = deal.closed_at
    return [
        PlannedReminder(
            key=f"follow:{deal.id}:{step.id}:{int(won_at.timestamp())}",
            kind=ReminderKind.FOLLOW_UP,
            audience=Audience.CLIENT if step.to == "client" else Audience.MANAGER,
            due_at=won_at + dt.timedelta(days=step.after_days),
            deal_id=deal.id,
            text=step.text,
            stage_entered_at=won_at,
        )
        for step in steps
        if step.enabled
    ]


STAGE_KINDS = (ReminderKind.DUE_SOON, ReminderKind.OVERDUE)
SNOOZE_HOLDS = frozenset({*STAGE_KINDS, ReminderKind.FIRST_RESPONSE})
"""What a snoozed deal's pause holds back until it ends: its clock's reminders. A manager's own
"call back on the 10th" still comes when asked."""


def held_by_snooze(kind: ReminderKind, deal: Deal, at: dt.datetime) -> bool:
    """Whether the deal's snooze holds a reminder of this kind due `at` back to its end."""
    return kind in SNOOZE_HOLDS and deal.is_snoozed(at)


def obsolete_after_move(deal: Deal) -> list[str]:
    """Reminder kinds a stage move (or a close, or a reopen) leaves without meaning: the old
    stage visit's deadlines; once closed, the first-response one too; and the steps after a
    win, unless the deal is won (a reopened deal is no longer: a new win plans its own)."""
    kinds = [kind.value for kind in STAGE_KINDS]
    if not deal.is_open:
        kinds.append(ReminderKind.FIRST_RESPONSE.value)
    if deal.status is not DealStatus.WON:
        kinds.append(ReminderKind.FOLLOW_UP.value)
    return kinds


def plan_digest(supervisor_id: int, local_date: dt.date, due_at: dt.datetime) -> PlannedReminder:
    """The digest of one supervisor for one local date: its key makes it once a day, whatever
    the restarts and however many instances plan it."""
    return _once_a_day(ReminderKind.DIGEST, supervisor_id, local_date, due_at)


def plan_nudge(manager_id: int, local_date: dt.date, due_at: dt.datetime) -> PlannedReminder:
    """The end-of-day nudge of one manager for one local date (once a day, as the digest)."""
    return _once_a_day(ReminderKind.NUDGE, manager_id, local_date, due_at)


def plan_backup(local_date: dt.date, due_at: dt.datetime) -> PlannedReminder:
    """The backup of one local date of the team: once a day, whoever plans it how often."""
    return PlannedReminder(
        key=f"{ReminderKind.BACKUP.value}:{local_date.isoformat()}",
        kind=ReminderKind.BACKUP,
        audience=Audience.BOT,
        due_at=due_at,
        deal_id=None,
    )


def _once_a_day(
    kind: ReminderKind, staff_id: int, local_date: dt.date, due_at: dt.datetime
) -> PlannedReminder:
    return PlannedReminder(
        key=f"{kind.value}:{staff_id}:{local_date.isoformat()}",
        kind=kind,
        audience=Audience.STAFF,
        due_at=due_at,
        deal_id=None,
        staff_id=staff_id,
    )


def owe_card(
    deal_id: int,
    now: dt.datetime,
    *,
    to_staff: int | None = None,
    title: str | None = None,
    added: str | None = None,
) -> PlannedReminder:
    """The deal's card, owed at once: to its manager as the deal stands when it is sent (the
    supervisors, as a queued deal, when it has none), or to one person (`to_staff`); `added`:
    what the client added to the request with a new one, shown under its need."""
    payload = {key: value for key, value in (("title", title), ("added", added)) if value}
    return PlannedReminder(
        key=f"card:{deal_id}:{uuid.uuid4().hex}",
        kind=ReminderKind.CARD,
        audience=Audience.MANAGER if to_staff is None else Audience.STAFF,
        due_at=now,
        deal_id=deal_id,
        staff_id=to_staff,
        payload=payload or None,
    )


def owe_note(
    now: dt.datetime,
    key: str,
    values: dict[str, str | int],
    *,
    to_staff: int | None = None,
    to_client_of: int | None = None,
) -> PlannedReminder:
    """A notice owed at once, to a staff member or to the client of a deal, in their language
    when it is sent."""
    return PlannedReminder(
        key=f"note:{uuid.uuid4().hex}",
        kind=ReminderKind.NOTE,
        audience=Audience.STAFF if to_staff is not None else Audience.CLIENT,
        due_at=now,
        deal_id=to_client_of,
        staff_id=to_staff,
        payload={"key": key, "values": values},
    )


REPLY_GRACE = dt.timedelta(seconds=15)
"""How long the bot that filed a request has to answer the lead itself before any instance's
sweeper takes the answer over (that bot died between the commit and the reply)."""


def owe_reply(
    deal_id: int,
    now: dt.datetime,
    key: str,
    values: dict[str, str | int],
    *,
    promised_at: dt.datetime,
) -> PlannedReminder:
    """The lead's answer to their request ("request №N is accepted"), owed in the transaction
    that files it. The bot that filed it takes the row once its place in the send budget has
    come and answers at once; a bot killed before that (or still waiting its turn after
    `REPLY_GRACE`, in a burst) leaves the row to the sweepers, which send it once it is due."""
    return PlannedReminder(
        key=f"reply:{uuid.uuid4().hex}",
        kind=ReminderKind.NOTE,
        audience=Audience.CLIENT,
        due_at=now + REPLY_GRACE,
        deal_id=deal_id,
        staff_id=None,
        payload={"key": key, "values": values, "promised_at": promised_at.isoformat()},
    )


def decide(
    kind: ReminderKind,
    deal: Deal | None,
    now: dt.datetime,
    *,
    due_at: dt.datetime,
    zone: dt.tzinfo,
    stage_deadline: dt.datetime | None = None,
    stage_id: str | None = None,
    stage_entered_at: dt.datetime | None = None,
) -> Decision:
    """Whether a due reminder is still worth sending, given the deal as it is now and how long
    its kind stays meaningful. `zone` is the recipient's (a day is theirs); `stage_deadline` is
    the deal's current stage deadline (None for a closed deal)."""
    if outlived(kind, due_at, now, zone, stage_deadline):
        return Decision(Verdict.DROP)
    if kind in (ReminderKind.PERSONAL, ReminderKind.DIGEST, ReminderKind.NUDGE, *OUTBOX_KINDS):
        return Decision(Verdict.SEND)
    if deal is None or deal.is_sandbox:  # a /training deal escalates to nobody
        return Decision(Verdict.DROP)
    if kind is ReminderKind.FOLLOW_UP:
        # Only for the win it was planned for: a reopened (and won again) deal plans anew.
        won = deal.status is DealStatus.WON and deal.closed_at == stage_entered_at
        return Decision(Verdict.SEND if won else Verdict.DROP)
    if not deal.is_open:
        return Decision(Verdict.DROP)
    if kind is ReminderKind.FIRST_RESPONSE and deal.taken_at is not None:
        return Decision(Verdict.DROP)
    if kind in STAGE_KINDS and (
        deal.stage_id != stage_id or deal.stage_entered_at != stage_entered_at
    ):
        return Decision(Verdict.DROP)
    if held_by_snooze(kind, deal, now):
        return Decision(Verdict.POSTPONE, deal.snoozed_until)
    return Decision(Verdict.SEND)


def outlived(
    kind: ReminderKind,
    due_at: dt.datetime,
    now: dt.datetime,
    zone: dt.tzinfo,
    stage_deadline: dt.datetime | None = None,
) -> bool:
    """Whether the moment a reminder was about has passed by `now` (see `LIFETIME`)."""
    lifetime = LIFETIME[kind]
    if lifetime is Lifetime.ITS_DAY:
        return now.astimezone(zone).date() > due_at.astimezone(zone).date()
    if lifetime is Lifetime.UNTIL_DEADLINE:
        return stage_deadline is not None and now >= stage_deadline
    return False


def is_late(due_at: dt.datetime, now: dt.datetime) -> bool:
    return now - due_at > LATE_AFTER
