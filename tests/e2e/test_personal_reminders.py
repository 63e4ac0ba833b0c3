"""A manager's own reminders, typed as people say them, and snoozing a deal whose client is away.
The clock starts on Monday 02.03.2026 at 10:00 Moscow time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Application
from bot.telegram.callbacks import ReminderAction, ReminderStep
from domain.clock import FixedClock
from storage.models import ReminderRow
from tests.e2e.scenario import a_taken_deal, deals, invite, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

MOSCOW = ZoneInfo("Europe/Moscow")


def msk(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


async def test_typed_reminders_are_set_listed_moved_cancelled_and_fire_once(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await ivan.send("перезвонить завтра в 11")
    set_ = await ivan.wait_message(exact="🔔 Напомню 03.03.2026 11:00: перезвонить")
    assert set_.button_texts == ["✏️ Перенести", "✖️ Отменить"]  # one reminder: no "1"
    await ivan.send("вчера в 10")
    await ivan.wait_message(contains="Это время уже прошло (01.03.2026 10:00)")
    await ivan.send("привет")
    await ivan.wait_message(contains="Если это напоминание, добавьте время")
    await ivan.send("напомни 31.02 в 10 позвонить")  # not "today at 10"
    await ivan.wait_message(exact="Такой даты нет: 31.02. Проверьте число и месяц.")
    await ivan.send("напомни 31 февраля позвонить")  # was "07.02.2027 09:00: 31 позвонить"
    await ivan.wait_message(exact="Такой даты нет: 31 февраля. Проверьте число и месяц.")
    await ivan.send("через 100 лет позвонить")  # a slip of the keyboard, not a plan
    await ivan.wait_message(
        exact="Это слишком далеко (02.03.2126 10:00): напоминание ставится не больше чем на год"
        " вперёд. Напишите время поближе."
    )
    await ivan.send("через 2 часа проверить почту")
    await ivan.wait_message(exact="🔔 Напомню 02.03.2026 12:00: проверить почту")
    # An hour from now, not the working day's start (it said the time had passed).
    await ivan.send("перезвонить через час")
    in_an_hour = await ivan.wait_message(exact="🔔 Напомню 02.03.2026 11:00: перезвонить")
    await ivan.press("✖️ Отменить", message_id=in_an_hour.message_id)
    left = await ivan.wait_message(contains="Ваши напоминания (2)")
    assert "02.03.2026 11:00" not in left.text
    await ivan.send("2,5 млн")  # a figure, not the 2nd of May
    await ivan.wait_message(contains="Если это напоминание, добавьте время")

    await ivan.send("/reminders")
    listing = await ivan.wait_message(contains="Ваши напоминания")
    assert "1. 02.03.2026 12:00 — проверить почту" in listing.text
    assert "2. 03.03.2026 11:00 — перезвонить" in listing.text
    await ivan.press("✖️ Отменить 1")
    after_cancel = await ivan.wait_message(contains="Ваши напоминания (1)")
    assert "проверить почту" not in after_cancel.text
    await ivan.press("✏️ Перенести 1")
    await ivan.wait_message(contains="На когда перенести «перезвонить»")
    await ivan.send("абракадабра")
    await ivan.wait_message(contains="Не понял, когда напомнить")
    await ivan.send("02.03.2028 в 10:00")
    await ivan.wait_message(contains="Это слишком далеко (02.03.2028 10:00)")
    await ivan.send("в пятницу в 15:00")  # the question still stands
    await ivan.wait_message(contains="Перенесено на 06.03.2026 15:00: перезвонить")

    # Someone else's reminder cannot be touched with a forged button.
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    async with app.session_factory() as session:
        ivans = list(await session.scalars(select(ReminderRow.id)))
    forged = await petr.press_data(
        ReminderAction(reminder_id=ivans[-1], step=ReminderStep.CANCEL).pack()
    )
    assert forged is not None and "уже нет" in (forged.text or "")

    clock.set(msk(3, 3, 11))
    assert (await app.sweeper.tick()).sent == 0  # moved, and the other one was cancelled
    clock.set(msk(6, 3, 15))
    assert (await app.sweeper.tick()).sent == 1
    fired = await ivan.wait_message(contains="🔔 Напоминание")
    assert fired.text == "🔔 Напоминание: перезвонить"
    assert (await app.sweeper.tick()).sent == 0
    await ivan.send("/reminders")
    await ivan.wait_message(contains="Напоминаний нет")


async def test_english_speaking_manager_types_english(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    token = await invite(admin, "Менеджер", "John")
    john = tg.user("John", language_code="en")
    await john.send(f"/start {token}")
    await john.wait_message(contains="Welcome")
    await john.send("call back tomorrow at 11")
    await john.wait_message(exact="🔔 I will remind you 03.03.2026 11:00: call back")
    await john.send("hello")
    await john.wait_message(contains="If it is a reminder, add a time")


async def test_a_reminder_from_the_card_and_a_snooze_that_holds_then_resumes(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))  # Monday 10:00: due soon 13:00, deadline 14:00
    await ivan.press("✅ Взять в работу")
    await ivan.send("/deal 1")
    card = await ivan.wait_message(contains="Сделка №1")
    assert "🔔 Следующее напоминание: 02.03 13:00 — скоро срок этапа" in card.text
    await ivan.press("🔔 Напомнить")
    asked = await ivan.wait_message(contains="Когда напомнить и о чём")
    await ivan.send("15.06 в 10:30 отправить КП")
    await ivan.wait_message(exact="🔔 Напомню 15.06.2026 10:30: отправить КП")
    await ivan.wait_message(  # answered: its "Отмена" is gone
        where=lambda m: m.message_id == asked.message_id and not m.button_texts
    )

    await ivan.send("/deal 1")
    await ivan.press("💤 Отложить")
    asked = await ivan.wait_message(contains="До какой даты отложить сделку")
    await ivan.send("до 01.01.2099 клиент уехал")
    await ivan.wait_message(
        exact="Это слишком далеко (01.01.2099 09:00): сделку можно отложить не больше чем на"
        " год. Напишите дату поближе."
    )
    await ivan.send("до 10.06")
    await ivan.wait_message(contains="Напишите и причину")
    assert tg.message(ivan.id, asked.message_id).button_texts == ["Отмена"]  # still asked
    await ivan.send("клиент в отпуске до 10.06")
    snoozed = await ivan.wait_message(contains="💤 Отложена до 10.06 09:00: клиент в отпуске")
    assert tg.message(ivan.id, asked.message_id).button_texts == []
    assert "⏰ Вернуть в работу" in snoozed.button_texts
    # Its deadline reminders wait for the snooze's end (it was "02.03 13:00 — скоро срок
    # этапа"): the next to come is his own.
    assert "🔔 Следующее напоминание: 15.06 10:30 — отправить КП" in snoozed.text
    await maria.send("/digest")
    assert (
        "💤 Отложено сделок (клиент недоступен): 1" in (await maria.wait_message(kind="photo")).text
    )
    ivan.mark_seen()
    maria.mark_seen()

    for hour in (13, 14, 18):  # its deadlines pass while it sleeps: nothing is sent
        clock.set(msk(2, 3, hour))
        assert (await app.sweeper.tick()).sent == 0
    await ivan.send("/deals")
    listing = await ivan.wait_message(contains="Открытые сделки")
    assert "просрочено" not in listing.text
    await maria.expect_no_message()

    clock.set(msk(10, 6, 9))  # the snooze ends: one message per deal and person, no more
    tally = await app.sweeper.tick()  # "due soon", its deadline long past, is dropped
    assert (tally.sent, tally.dropped) == (2, 1)
    resumed = await ivan.wait_message(contains="Просрочена сделка №1")
    assert "С опозданием" not in resumed.text
    await maria.wait_message(contains="Просрочена сделка №1")
    assert (await app.sweeper.tick()).sent == 0
    clock.set(msk(15, 6, 10, 30))
    assert (await app.sweeper.tick()).sent == 1
    personal = await ivan.wait_message(contains="🔔 Напоминание: отправить КП")
    assert "Сделка №1: Анна" in personal.text

    await ivan.send("/deal 1")
    await ivan.wait_message(contains="Сделка №1")
    [deal] = await deals(app)
    assert deal.snoozed_until == msk(10, 6, 9)
    assert deal.snooze_reason == "клиент в отпуске"


async def test_a_manager_in_another_time_zone_reads_and_types_times_by_their_own_clock(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await ivan.send("/timezone")
    await ivan.press("Новосибирск (UTC+7)")
    saved = await ivan.wait_message(contains="✅ Часовой пояс")
    assert "сейчас 14:00" in saved.text and "напоминания" in saved.text
    await leave_request(tg.user("Анна"))  # 10:00 in Moscow: due soon 13:00, deadline 14:00
    notification = await ivan.wait_message(contains="Новая заявка №1")
    assert "Клиенту обещан ответ сегодня до 14:15" in notification.text  # 10:15 in Moscow
    await ivan.press("✅ Взять в работу")
    await ivan.send("/deal 1")
    card = await ivan.wait_message(contains="Сделка №1")
    assert "(до 02.03 18:00)" in card.text  # 14:00 in Moscow
    assert "🔔 Следующее напоминание: 02.03 17:00 — скоро срок этапа" in card.text
    await ivan.send("/deals")
    assert "(до 02.03 18:00)" in (await ivan.wait_message(contains="Открытые сделки")).text

    await ivan.send("перезвонить завтра в 11")  # 11:00 by his clock, 07:00 in Moscow
    await ivan.wait_message(exact="🔔 Напомню 03.03.2026 11:00: перезвонить")
    await ivan.send("/reminders")
    listing = await ivan.wait_message(contains="Ваши напоминания")
    assert "1. 03.03.2026 11:00 — перезвонить" in listing.text
    clock.set(msk(3, 3, 6, 59))
    await app.sweeper.tick()  # the deal's own deadlines, passed overnight
    overdue = await ivan.wait_message(contains="Просрочена сделка №1")
    assert "срок был 02.03 18:00" in overdue.text
    assert (await app.sweeper.tick()).sent == 0
    clock.set(msk(3, 3, 7))
    assert (await app.sweeper.tick()).sent == 1
    await ivan.wait_message(exact="🔔 Напоминание: перезвонить")


async def test_the_list_is_ones_own_reminders_not_the_digest_or_the_nudge_planned_for_one(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    ivan, _ = await a_taken_deal(tg, admin)
    # Maria's morning digest and Ivan's end-of-day nudge are rows with their ids too; the list
    # showed each as "09:00 — " with nothing after it, and "✖️ Отменить" refused them.
    assert await app.sweeper.plan_digests() == 1
    assert await app.sweeper.plan_nudges() == 1
    for person in (maria, ivan):
        await person.send("/reminders")
        await person.wait_message(contains="Напоминаний нет")
    await ivan.send("перезвонить завтра в 11")
    await ivan.wait_message(contains="Напомню 03.03.2026 11:00")
    await ivan.send("/reminders")
    listing = await ivan.wait_message(contains="Ваши напоминания (1)")
    assert "1. 03.03.2026 11:00 — перезвонить" in listing.text
