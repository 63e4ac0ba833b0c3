"""How long each kind of reminder stays worth sending when the bot gets to it late (it was
down): the verdict `decide` takes at send time. The book: working hours 09:00-18:00 Moscow,
Monday to Friday; the first stage ("request") has a 2-hour SLA; "due soon" at 75 %."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.deal import Deal, open_deal
from domain.reminders import (
    LIFETIME,
    Audience,
    PlannedReminder,
    ReminderKind,
    Verdict,
    decide,
    plan_digest,
    plan_first_response,
    plan_follow_up,
    plan_nudge,
    plan_stage,
)
from domain.sales_book import FollowUpStep, StageReminders
from domain.working_time import WorkingCalendar
from tests.unit.book_factory import make_book

MSK = ZoneInfo("Europe/Moscow")
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")  # Moscow + 7 hours
BOOK = make_book()
PIPELINE = BOOK.pipelines[0]
CALENDAR = WorkingCalendar.from_book(BOOK.working_hours)
MANAGER = 101
WEDNESDAY = dt.date(2026, 5, 20)


def msk(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour, minute, tzinfo=MSK)


def new_deal() -> Deal:
    deal, _created = open_deal(PIPELINE, msk(20, 10), manager_id=MANAGER)  # Wednesday 10:00
    deal.id = 7
    return deal


def verdict(
    plan: PlannedReminder, deal: Deal | None, now: dt.datetime, zone: ZoneInfo = MSK
) -> Verdict:
    """The verdict at `now`, taken the way the sweeper takes it."""
    deadline = deal.deadline(CALENDAR, PIPELINE) if deal is not None and deal.is_open else None
    return decide(
        plan.kind,
        deal,
        now,
        due_at=plan.due_at,
        zone=zone,
        stage_deadline=deadline,
        stage_id=plan.stage_id,
        stage_entered_at=plan.stage_entered_at,
    ).verdict


def test_every_kind_says_how_long_it_stays_meaningful() -> None:
    assert set(LIFETIME) == set(ReminderKind)


def test_a_nudge_holds_until_the_end_of_its_day_and_not_into_the_next_morning() -> None:
    nudge = plan_nudge(MANAGER, WEDNESDAY, msk(20, 17))
    assert verdict(nudge, None, msk(20, 17)) is Verdict.SEND
    assert verdict(nudge, None, msk(20, 17, 40)) is Verdict.SEND  # down for 40 minutes
    assert verdict(nudge, None, msk(20, 23, 59)) is Verdict.SEND
    assert verdict(nudge, None, msk(21, 0)) is Verdict.DROP
    assert verdict(nudge, None, msk(21, 9, 30)) is Verdict.DROP  # the next morning


def test_a_nudges_day_is_the_recipients_own() -> None:
    # 17:00 in Vladivostok is 10:00 in Moscow; their day ends at 17:00 Moscow time.
    due = dt.datetime(2026, 5, 20, 17, 0, tzinfo=VLADIVOSTOK)
    nudge = plan_nudge(MANAGER, WEDNESDAY, due)
    assert verdict(nudge, None, msk(20, 16, 59), VLADIVOSTOK) is Verdict.SEND
    assert verdict(nudge, None, msk(20, 17), VLADIVOSTOK) is Verdict.DROP
    assert verdict(nudge, None, msk(20, 17), MSK) is Verdict.SEND  # still Wednesday in Moscow


def test_todays_digest_comes_late_and_yesterdays_is_dropped() -> None:
    digest = plan_digest(202, WEDNESDAY, msk(20, 9))
    assert verdict(digest, None, msk(20, 10)) is Verdict.SEND  # the bot was down an hour
    assert verdict(digest, None, msk(20, 21)) is Verdict.SEND
    assert verdict(digest, None, msk(21, 9)) is Verdict.DROP  # Thursday's is planned for that


def test_due_soon_holds_until_the_stage_deadline_then_the_overdue_one_speaks() -> None:
    deal = new_deal()
    due_soon, overdue, to_supervisors = plan_stage(deal, PIPELINE, CALENDAR, StageReminders())
    assert due_soon.kind is ReminderKind.DUE_SOON and due_soon.due_at == msk(20, 11, 30)
    assert overdue.due_at == to_supervisors.due_at == msk(20, 12)
    assert verdict(due_soon, deal, msk(20, 11, 59)) is Verdict.SEND  # late, still ahead of it
    assert verdict(due_soon, deal, msk(20, 12)) is Verdict.DROP
    assert verdict(overdue, deal, msk(20, 12)) is Verdict.SEND
    # Two days down: the deadline is still news, sent late (the sweeper marks it).
    assert verdict(overdue, deal, msk(22, 10)) is Verdict.SEND
    assert verdict(to_supervisors, deal, msk(22, 10)) is Verdict.SEND
    assert verdict(due_soon, deal, msk(22, 10)) is Verdict.DROP


def test_a_snooze_past_the_deadline_leaves_only_the_overdue_reminder_to_wait() -> None:
    deal = new_deal()
    due_soon, overdue, _ = plan_stage(deal, PIPELINE, CALENDAR, StageReminders())
    deal.snooze(msk(25, 10), "клиент в отпуске", msk(20, 11))
    assert verdict(due_soon, deal, msk(20, 12)) is Verdict.DROP
    later = decide(
        overdue.kind,
        deal,
        msk(20, 12),
        due_at=overdue.due_at,
        zone=MSK,
        stage_deadline=deal.deadline(CALENDAR, PIPELINE),
        stage_id=overdue.stage_id,
        stage_entered_at=overdue.stage_entered_at,
    )
    assert (later.verdict, later.until) == (Verdict.POSTPONE, msk(25, 10))


@pytest.mark.parametrize("days_late", [0, 1, 10])
def test_an_escalation_a_personal_reminder_and_follow_ups_come_however_late(
    days_late: int,
) -> None:
    deal = new_deal()
    deal.first_response_due_at = msk(20, 10, 30)
    [first_response] = plan_first_response(deal)
    late = dt.timedelta(days=days_late, minutes=10)
    assert verdict(first_response, deal, first_response.due_at + late) is Verdict.SEND

    personal = PlannedReminder(
        key="personal:1",
        kind=ReminderKind.PERSONAL,
        audience=Audience.STAFF,
        due_at=msk(20, 11),
        deal_id=None,
        staff_id=MANAGER,
        text="перезвонить",
    )
    assert verdict(personal, None, personal.due_at + late) is Verdict.SEND

    deal.win(Decimal(100_000), MANAGER, msk(20, 15))
    steps = [
        FollowUpStep(id="thanks", after_days=7, to="client", text="Спасибо!"),
        FollowUpStep(id="check_in", after_days=30, to="manager", text="Как дела у клиента?"),
    ]
    for step in plan_follow_up(deal, steps):
        assert verdict(step, deal, step.due_at + late) is Verdict.SEND
