"""After downtime, only what is still true is sent: a stage deadline comes late with the "late"
mark for staff, while the end-of-day nudge and the morning digest of a day that has ended are
dropped; a client's follow-up comes without the staff's note. The bot is "down" while the
injected clock moves on and nobody ticks the sweeper. The default book: working hours
09:00-18:00 Moscow, Monday to Friday; "Обращение" has a 4-hour SLA (reminder at 75 %); daily
targets 15 calls, 2 meetings, 1 proposal; the nudge at 17:00; the digest at 09:00."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Application
from domain.clock import FixedClock
from storage.models import ReminderRow
from tests.e2e.scenario import join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

MOSCOW = ZoneInfo("Europe/Moscow")
NUDGE = "До конца рабочего дня"
LATE = "⌛ С опозданием"


def msk(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


async def reminders(app: Application, kind: str) -> list[tuple[str, str, bool]]:
    """The key, status and late flag of each stored reminder of a kind, oldest first."""
    async with app.session_factory() as session:
        rows = await session.scalars(
            select(ReminderRow).where(ReminderRow.kind == kind).order_by(ReminderRow.id)
        )
        return [(row.key, row.status, row.late) for row in rows]


def texts(tg: FakeTelegram, person: FakeUser, contains: str) -> list[str]:
    return [m.text or "" for m in tg.messages_in(person.id) if contains in (m.text or "")]


async def test_after_a_night_down_the_deadline_comes_late_and_yesterdays_nudge_does_not(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))  # Monday 02.03 10:00
    await ivan.press("✅ Взять в работу")
    assert await app.sweeper.plan_nudges() == 1  # Ivan's, Monday 17:00
    await tg.settle()
    ivan.mark_seen()
    maria.mark_seen()

    # Down from Monday 10:00 to Tuesday 09:30: "due soon" (13:00), the deadline (14:00) and
    # the nudge (17:00) all passed unsent.
    clock.set(msk(3, 3, 9, 30))
    tally = await app.sweeper.tick()
    overdue = await ivan.wait_message(contains="Просрочена сделка №1")
    assert overdue.text.startswith(f"{LATE}: бот был недоступен")
    assert "(02.03 14:00)" in overdue.text
    told = await maria.wait_message(contains="Просрочена сделка №1")
    assert told.text.startswith(LATE)
    await ivan.expect_no_message()  # neither "due soon" past its deadline nor Monday's nudge
    assert not texts(tg, ivan, NUDGE)
    # Sent: the deadline to Ivan and to Maria. Dropped: "due soon" and the nudge about Monday.
    assert (tally.sent, tally.late, tally.dropped) == (2, 2, 2)
    assert await reminders(app, "nudge") == [(f"nudge:{ivan.id}:2026-03-02", "dropped", False)]

    # Tuesday's nudge, on time, still comes: about Tuesday's activity.
    assert await app.sweeper.plan_nudges() == 1
    clock.set(msk(3, 3, 17))
    assert (await app.sweeper.tick()).sent == 1
    nudge = await ivan.wait_message(contains=NUDGE)
    assert "📞 звонки: ещё 15, 🤝 встречи: ещё 2, 📄 КП: ещё 1" in nudge.text
    assert LATE not in nudge.text
    assert await reminders(app, "nudge") == [
        (f"nudge:{ivan.id}:2026-03-02", "dropped", False),
        (f"nudge:{ivan.id}:2026-03-03", "sent", False),
    ]


async def test_todays_digest_survives_an_hour_down_and_a_past_days_digest_is_dropped(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    # Monday: the bot comes back at 10:00, an hour after the digest's 09:00.
    assert await app.sweeper.plan_digests() == 1
    assert (await app.sweeper.tick()).sent == 1
    await maria.wait_message(kind="photo")

    # Tuesday's digest is planned at 08:00, then the bot is down until Wednesday 10:00.
    clock.set(msk(3, 3, 8))
    assert await app.sweeper.plan_digests() == 1
    clock.set(msk(4, 3, 10))
    tally = await app.sweeper.tick()
    assert (tally.sent, tally.dropped) == (0, 1)
    await maria.expect_no_message()
    # Wednesday's own digest is planned when the bot is back and comes once.
    assert await app.sweeper.plan_digests() == 1
    assert (await app.sweeper.tick()).sent == 1
    await maria.wait_message(kind="photo")
    assert (await app.sweeper.tick()).sent == 0
    assert [status for _, status, _ in await reminders(app, "digest")] == [
        "sent",
        "dropped",
        "sent",
    ]
    assert len(tg.calls_to("sendPhoto", chat_id=maria.id)) == 2


async def test_after_downtime_the_client_gets_the_follow_up_without_the_staff_late_note(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    anna = tg.user("Анна")
    await leave_request(anna)
    await ivan.press("✅ Взять в работу")
    await ivan.send("/deal 1")
    await ivan.press("✅ Выиграна")
    await ivan.send("500000")
    await ivan.wait_message(contains="✅ Выиграна")
    anna.mark_seen()
    ivan.mark_seen()
    thanks, check_in = app.book.follow_up

    # Down from the win until a day after the check-in: both steps are due at once.
    clock.advance(dt.timedelta(days=check_in.after_days + 1))
    tally = await app.sweeper.tick()
    assert (tally.sent, tally.late) == (2, 2)
    message = await anna.wait_message(contains="Спасибо, что выбрали Ясную CRM")
    assert message.text == thanks.text  # the client never hears of the bot's downtime
    task = await ivan.wait_message(contains="Задача по сделке №1")
    assert task.text.startswith(LATE) and check_in.text in task.text
    assert [(status, late) for _, status, late in await reminders(app, "follow_up")] == [
        ("sent", True),
        ("sent", True),
    ]
