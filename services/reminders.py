"""The reminder engine's use cases: claim what is due, decide what still holds, say to whom it
goes, and mark the outcome.

Exactly once: a reminder is claimed (committed) before it is sent and marked right after, in
one statement. A sender that dies after claiming leaves the row claimed; once the claim's lease
expires, the next sweep claims it again, so nothing is lost. The only window for a repeat is a
crash between Telegram's answer and that one write: Telegram has no idempotency key to close it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.contact import Contact
from domain.deal import Deal
from domain.reminders import (
    Audience,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Verdict,
    decide,
    is_late,
)
from domain.roles import Role
from domain.staff import StaffMember
from services.leads import pass_deal_on
from services.staff import personal_zone
from services.unit_of_work import UnitOfWork

LEASE = dt.timedelta(minutes=5)
"""How long a claim holds before another sweep may take the reminder over."""
RETRY_AFTER_FAILURE = dt.timedelta(minutes=1)
MAX_ATTEMPTS = 10
"""Claims of one reminder before it is given up as failed (Telegram kept failing)."""

COALESCED_KINDS = frozenset(
    {ReminderKind.DUE_SOON, ReminderKind.OVERDUE, ReminderKind.FIRST_RESPONSE}
)
"""Deadline reminders of one deal to one person go out as one message (the gravest wins)."""
GRAVITY = {ReminderKind.DUE_SOON: 0, ReminderKind.OVERDUE: 1, ReminderKind.FIRST_RESPONSE: 2}


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"
    """The recipient blocked the bot (403)."""
    GONE = "gone"
    """Telegram refuses the message for good (the chat does not exist, a bad request)."""
    GAVE_UP = "gave_up"
    """Telegram kept failing (5xx, timeouts) after every retry: try again at a later sweep."""
    NOT_NEEDED = "not_needed"
    """Nothing was left to say when it came to sending (a nudge to someone on target by then)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_id: int
    language: str | None
    is_staff: bool
    timezone: str | None = None
    """A staff member's own time zone, for the times the message names (None: the team's)."""


@dataclass(frozen=True, slots=True)
class DealFacts:
    deal_id: int
    pipeline_id: str
    stage_id: str
    client: str | None
    phone: str | None
    company: str | None
    manager_id: int | None
    manager_name: str | None
    snoozed_until: dt.datetime | None
    first_response_due_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one person, standing for one or more claimed reminders."""

    reminder_ids: list[int]
    kind: ReminderKind
    """The gravest of the coalesced kinds."""
    audience: Audience
    recipient: Recipient
    due_at: dt.datetime
    late: bool
    deal: DealFacts | None
    text: str | None = None
    stage_deadline: dt.datetime | None = None
    covered: list[ReminderKind] = field(default_factory=list)
    payload: dict[str, Any] | None = None


@dataclass
class SweepTally:
    sent: int = 0
    late: int = 0
    dropped: int = 0
    postponed: int = 0
    failed: int = 0
    retry: int = 0
    blocked: list[int] = field(default_factory=list)
    """Staff who turned out to have blocked the bot (for the supervisor to hear of)."""


async def claim_due(
    uow: UnitOfWork,
    clock: Clock,
    claimant: str,
    limit: int,
    lease: dt.timedelta = LEASE,
    kinds: Collection[ReminderKind] | None = None,
) -> list[Reminder]:
    async with uow:
        rows = await uow.reminders.claim(clock.now(), claimant, limit, lease, kinds)
        await uow.commit()
        return rows


async def release_stale_claims(uow: UnitOfWork) -> int:
    """At a start on SQLite (one process by construction): what an earlier process claimed and
    never marked is due again now, instead of after its lease."""
    async with uow:
        released = await uow.reminders.release_all_claims()
        await uow.commit()
        return released


async def prepare(
    uow: UnitOfWork,
    clock: Clock,
    claimant: str,
    claimed: Sequence[Reminder],
    stage_deadline: Callable[[Deal], dt.datetime | None],
    tally: SweepTally,
    team_zone: ZoneInfo,
) -> list[Delivery]:
    """Decide each claimed reminder against its deal as it is now and the time: drop what no
    longer holds or whose moment has passed, put snoozed ones back until the snooze ends, and
    turn the rest into deliveries."""
    now = clock.now()
    deliveries: list[Delivery] = []
    async with uow:
        deals = await _deals(uow, claimed)
        supervisors = await _supervisors(uow)
        for row in claimed:
            deal = deals.get(row.deal_id) if row.deal_id is not None else None
            kind = row.kind
            deadline = stage_deadline(deal[0]) if deal else None
            decision = decide(
                kind,
                deal[0] if deal else None,
                now,
                due_at=row.due_at,
                zone=await _zone(uow, row, team_zone),
                stage_deadline=deadline,
                stage_id=row.stage_id,
                stage_entered_at=row.stage_entered_at,
            )
            if decision.verdict is Verdict.DROP:
                await uow.reminders.finish(row.id, claimant, ReminderStatus.DROPPED, now)
                tally.dropped += 1
                continue
            if decision.verdict is Verdict.POSTPONE:
                assert decision.until is not None
                await uow.reminders.release(row.id, claimant, decision.until)
                tally.postponed += 1
                continue
            if row.attempts > MAX_ATTEMPTS:
                await uow.reminders.finish(row.id, claimant, ReminderStatus.FAILED, now)
                tally.failed += 1
                continue
            audience, recipients = await _recipients(uow, row, deal, supervisors)
            if not recipients:
                await uow.reminders.finish(row.id, claimant, ReminderStatus.DROPPED, now)
                tally.dropped += 1
                continue
            facts = _facts(*deal) if deal else None
            for recipient in recipients:
                deliveries.append(
                    Delivery(
                        reminder_ids=[row.id],
                        kind=kind,
                        audience=audience,
                        recipient=recipient,
                        due_at=row.due_at,
                        late=is_late(row.due_at, now),
                        deal=facts,
                        text=row.text,
                        stage_deadline=deadline,
                        covered=[kind],
                        payload=row.payload,
                    )
                )
        await uow.commit()
    return _coalesce(deliveries)


async def complete(
    uow: UnitOfWork,
    clock: Clock,
    claimant: str,
    delivery: Delivery,
    outcome: Outcome,
    tally: SweepTally,
) -> bool:
    """Mark the reminders behind one delivery as soon as it is sent (or refused). Returns True
    if the recipient is a colleague who has just turned out to have blocked the bot."""
    now = clock.now()
    newly_blocked = False
    async with uow:
        for reminder_id in delivery.reminder_ids:
            if outcome is Outcome.SENT:
                marked = await uow.reminders.finish(
                    reminder_id, claimant, ReminderStatus.SENT, now, late=delivery.late
                )
                tally.sent += int(marked)
                tally.late += int(marked and delivery.late)
            elif outcome is Outcome.NOT_NEEDED:
                marked = await uow.reminders.finish(
                    reminder_id, claimant, ReminderStatus.DROPPED, now
                )
                tally.dropped += int(marked)
            elif outcome is Outcome.GAVE_UP:
                await uow.reminders.release(reminder_id, claimant, now + RETRY_AFTER_FAILURE)
                tally.retry += 1
            else:
                gone = ReminderStatus.CANCELLED if outcome is Outcome.BLOCKED else None
                marked = await uow.reminders.finish(
                    reminder_id, claimant, gone or ReminderStatus.FAILED, now
                )
                tally.failed += int(marked)
        blocked = delivery.recipient.chat_id
        if outcome is Outcome.BLOCKED and delivery.recipient.is_staff:
            newly_blocked = blocked not in tally.blocked
            if newly_blocked:
                tally.blocked.append(blocked)  # before any await: a parallel send sees it
                await _unreachable(uow, blocked)
            if _is_new_deals_card(delivery):
                assert delivery.deal is not None
                await pass_deal_on(uow, clock, delivery.deal.deal_id, blocked)
        await uow.commit()
    return newly_blocked


def _is_new_deals_card(delivery: Delivery) -> bool:
    """The card of a deal to its own manager: a manager who blocked the bot cannot work it."""
    return (
        delivery.kind is ReminderKind.CARD
        and delivery.audience is Audience.MANAGER
        and delivery.deal is not None
        and delivery.deal.manager_id == delivery.recipient.chat_id
    )


async def _unreachable(uow: UnitOfWork, staff_id: int) -> None:
    """A staff member blocked the bot: no more sends to them until they write again."""
    member = await uow.staff.get(staff_id)
    if member is not None:
        member.is_reachable = False
        await uow.staff.save(member)
    await uow.reminders.cancel_for_staff(staff_id)


async def _deals(
    uow: UnitOfWork, claimed: Sequence[Reminder]
) -> dict[int, tuple[Deal, Contact | None, StaffMember | None]]:
    """The claimed reminders' deals with their contacts and managers: three queries for a batch
    (in an ad burst the outbox claims hundreds of cards at once, and a query per deal held the
    event loop for as long as they took)."""
    deals = await uow.deals.many(sorted({r.deal_id for r in claimed if r.deal_id is not None}))
    contacts = await uow.contacts.many(
        sorted({d.contact_id for d in deals.values() if d.contact_id is not None})
    )
    managers = await uow.staff.many(
        sorted({d.manager_id for d in deals.values() if d.manager_id is not None})
    )
    return {
        deal_id: (
            deal,
            contacts.get(deal.contact_id) if deal.contact_id is not None else None,
            managers.get(deal.manager_id) if deal.manager_id is not None else None,
        )
        for deal_id, deal in deals.items()
    }


async def _supervisors(uow: UnitOfWork) -> list[StaffMember]:
    members = list(await uow.staff.active_with_role(Role.SUPERVISOR))
    if not members:
        members = list(await uow.staff.active_with_role(Role.ADMIN))
    return [member for member in members if member.is_reachable]


async def _recipients(
    uow: UnitOfWork,
    row: Reminder,
    deal: tuple[Deal, Contact | None, StaffMember | None] | None,
    supervisors: list[StaffMember],
) -> tuple[Audience, list[Recipient]]:
    """Who gets it now. A manager's reminder on a deal without a (reachable) manager goes to
    the supervisors instead, and then reads as one for them."""
    audience = row.audience
    if audience is Audience.CLIENT:
        if deal is None or deal[0].lead_chat_id is None:
            return audience, []
        language = deal[1].language_code if deal[1] else None
        return audience, [Recipient(deal[0].lead_chat_id, language, False)]
    if audience is Audience.STAFF:
        member = await uow.staff.get(row.staff_id) if row.staff_id is not None else None
        if member is None or not member.receives_messages:
            return audience, []
        return audience, [
            Recipient(member.telegram_id, member.language_code, True, member.timezone)
        ]
    if audience is Audience.MANAGER and deal is not None and deal[2] is not None:
        manager = deal[2]
        if manager.receives_messages:
            return audience, [
                Recipient(manager.telegram_id, manager.language_code, True, manager.timezone)
            ]
    recipients = [Recipient(m.telegram_id, m.language_code, True, m.timezone) for m in supervisors]
    return Audience.SUPERVISORS, recipients


async def _zone(uow: UnitOfWork, row: Reminder, team_zone: ZoneInfo) -> ZoneInfo:
    """The time zone of a reminder's day: its staff recipient's own, else the team's."""
    if row.audience is not Audience.STAFF or row.staff_id is None:
        return team_zone
    member = await uow.staff.get(row.staff_id)
    return personal_zone(member.timezone if member else None, team_zone)


def _facts(deal: Deal, contact: Contact | None, manager: StaffMember | None) -> DealFacts:
    assert deal.id is not None
    return DealFacts(
        deal_id=deal.id,
        pipeline_id=deal.pipeline_id,
        stage_id=deal.stage_id,
        client=contact.name if contact else None,
        phone=contact.phone if contact else None,
        company=contact.company if contact else None,
        manager_id=deal.manager_id,
        manager_name=manager.first_name if manager else None,
        snoozed_until=deal.snoozed_until,
        first_response_due_at=deal.first_response_due_at,
    )


def _coalesce(deliveries: list[Delivery]) -> list[Delivery]:
    """Deadline reminders of one deal to one person become one delivery: after downtime a
    manager gets "deal 12 is overdue (late)" once, not "due soon" and "overdue" together."""
    result: list[Delivery] = []
    position: dict[tuple[int, int], int] = {}
    for delivery in deliveries:
        if delivery.kind not in GRAVITY or delivery.deal is None:
            result.append(delivery)
            continue
        key = (delivery.deal.deal_id, delivery.recipient.chat_id)
        if key not in position:
            position[key] = len(result)
            result.append(delivery)
            continue
        earlier = result[position[key]]
        graver = delivery if GRAVITY[delivery.kind] > GRAVITY[earlier.kind] else earlier
        result[position[key]] = replace(
            graver,
            reminder_ids=earlier.reminder_ids + delivery.reminder_ids,
            late=earlier.late or delivery.late,
            covered=earlier.covered + delivery.covered,
        )
    return result
