"""/my through the fake Bot API: a manager's month in money and their day against the activity
targets, the supervisor's team table with the payroll estimate, nobody else's month for a
manager, and the end-of-day nudge (once, only to those still below target, not on days off).

The bundled book: a manager earns 60,000 + 5 % of won implementation revenue (8 % of
subscriptions) + 20,000 from 100 % of the plan (50,000 from 120 %); a supervisor 120,000 + 1 %
of the team's revenue + 40,000 from 100 %. The team's plan, 3,000,000, is shared by the two
managers: 1,500,000 each. Daily targets: 15 calls, 2 meetings, 1 proposal; the nudge at 17:00.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.app import Application
from bot.telegram.callbacks import MyPerson
from domain.clock import FixedClock
from storage.models import ActivityRow
from tests.e2e.scenario import join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

MOSCOW = ZoneInfo("Europe/Moscow")


def msk(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=MOSCOW)


NUDGE = "До конца рабочего дня"


def nudges(tg: FakeTelegram, person: FakeUser) -> list[str]:
    return [m.text or "" for m in tg.messages_in(person.id) if NUDGE in (m.text or "")]


async def log_call(manager: FakeUser) -> None:
    await manager.send("/deal 1")
    await manager.wait_message(contains="Сделка №1")
    await manager.press("📞 Звонок")
    await manager.press("Без комментария")
    await manager.wait_message(contains="📞")


async def test_a_managers_month_the_team_table_and_the_nudge(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))  # implementation; round robin: Ivan
    await ivan.press("✅ Взять в работу")
    await log_call(ivan)
    await log_call(ivan)
    await ivan.send("/deal 1")
    await ivan.press("✅ Выиграна")
    await ivan.wait_message(contains="Сумма сделки")
    await ivan.send("600 000")
    await ivan.wait_message(contains="Сумма: 600 000")

    await ivan.send("/my")
    mine = await ivan.wait_message(contains="Мой месяц")
    # 600,000 x 5 % = 30,000; 40 % of 1,500,000: no bonus yet, 900,000 to the first step.
    # One more deal like this one: 30,000 more (1,200,000 is still 80 %).
    assert mine.text == (
        "💼 Мой месяц\n"
        "План 1 500 000 RUB · факт 600 000 (40 %) · выиграно сделок: 1\n"
        "Оклад 60 000 + комиссия 30 000 + премия 0 = 90 000 RUB\n"
        "🎯 До премии 20 000 RUB (план на 100 %) осталось продать на 900 000 RUB\n"
        "➕ Ещё одна средняя сделка добавит 30 000 RUB\n"
        "Сегодня: 📞 звонки 2/15 · 🤝 встречи 0/2 · 📄 КП 0/1"
    )
    await ivan.send(f"/my {petr.id}")
    await ivan.wait_message(contains="Можно смотреть только свой месяц")
    forged = await ivan.press_data(MyPerson(staff_id=petr.id).pack())
    assert forged is not None and "только свой месяц" in (forged.text or "")

    await maria.send("/my")
    table = await maria.wait_message(contains="Команда за месяц")
    # Maria: 120,000 + 1 % of 600,000 = 126,000; the team is at 20 % of 3,000,000: no bonus.
    # Payroll: Petr 60,000 + Ivan 90,000 + Maria 126,000 = 276,000.
    lines = table.text.split("\n")
    assert lines[1].startswith("Пётр: 0 из 1 500 000 (0 %), начислено 60 000 RUB")
    assert lines[2].startswith("Иван: 600 000 из 1 500 000 (40 %), начислено 90 000 RUB")
    assert lines[3].startswith(
        "Мария (руководитель): 600 000 из 3 000 000 (20 %), начислено 126 000 RUB"
    )
    assert lines[4] == "💰 Фонд оплаты за месяц по текущим цифрам: 276 000 RUB"
    assert table.button_texts == ["👤 Пётр", "👤 Иван"]
    await maria.press("👤 Иван")
    one = await maria.wait_message(contains="Иван: месяц")
    assert "Оклад 60 000 + комиссия 30 000 + премия 0 = 90 000 RUB" in one.text

    # Petr met today's targets (logged elsewhere: arranged in the database); Ivan did not.
    async with app.session_factory() as session:
        for kind, count in (("call", 15), ("meeting", 2), ("proposal", 1)):
            for _ in range(count):
                session.add(ActivityRow(deal_id=1, kind=kind, author_id=petr.id, at=msk(2, 12)))
        await session.commit()

    clock.set(msk(2, 16))
    assert await app.sweeper.plan_nudges() == 2
    await app.sweeper.tick()
    assert not nudges(tg, ivan)
    clock.set(msk(2, 17))
    await app.sweeper.tick()
    nudge = await ivan.wait_message(contains=NUDGE)
    assert "📞 звонки: ещё 13, 🤝 встречи: ещё 2, 📄 КП: ещё 1" in nudge.text
    assert not nudges(tg, petr)

    clock.set(msk(2, 17) + dt.timedelta(minutes=30))  # the same day again: nothing more
    await app.sweeper.plan_nudges()
    await app.sweeper.tick()
    assert len(nudges(tg, ivan)) == 1
    clock.set(msk(7, 17))  # Saturday: no nudge is planned
    assert await app.sweeper.plan_nudges() == 0

    # Tuesday's digest names who ended Monday below the targets.
    clock.set(msk(3, 9))
    await app.sweeper.plan_digests()
    await app.sweeper.tick()
    photo = await maria.wait_message(kind="photo")
    assert "📉 Вчера не выполнили норму: Иван 📞−13 🤝−2 📄−1" in photo.text
    assert "Пётр 📞" not in photo.text

    # A manager who joined on Tuesday owed nothing on Monday.
    clock.set(msk(3, 10))
    await join_team(tg, admin, "Менеджер", "Сергей")
    await maria.send("/digest")
    today = await maria.wait_message(kind="photo")
    [behind] = [line for line in today.text.split("\n") if "не выполнили норму" in line]
    assert behind == "📉 Вчера не выполнили норму: Иван 📞−13 🤝−2 📄−1"
    # After a weekend the last working day is named: it was not yesterday.
    clock.set(msk(16, 9))
    await maria.send("/digest")
    monday = await maria.wait_message(kind="photo")
    assert "Вчера" not in monday.text
    assert "📉 В пятницу, 13.03, не выполнили норму: " in monday.text
    assert "Сергей 📞−15 🤝−2 📄−1" in monday.text


async def test_who_joins_in_the_middle_of_the_month_answers_for_the_rest_of_it(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")  # Monday 02.03: the whole month
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    clock.set(msk(16, 10))
    petr = await join_team(tg, admin, "Менеджер", "Пётр")

    # March has 21 working days (the 9th is a holiday); from Monday the 16th on, 12 are left:
    # 0.5714 of his half of the team's 3,000,000.
    await petr.send("/my")
    mine = await petr.wait_message(contains="Мой месяц")
    assert mine.text.splitlines()[1] == "План 857 100 RUB · факт 0 (0 %) · выиграно сделок: 0"
    await ivan.send("/my")
    assert "План 1 500 000 RUB" in (await ivan.wait_message(contains="Мой месяц")).text

    # Each is paced from the moment he joined: at noon Ivan is expected to have made 83 of his
    # 188 working hours' worth (0.4415 of 1,500,000), Petr 2 of his 107 (0.0187 of 857,100),
    # not the month's first two weeks; in the hour he was invited, nothing.
    await maria.send("/digest")
    photo = await maria.wait_message(kind="photo")
    assert "🐢 Отстают от темпа: Иван −646 350 RUB" in photo.text
    await maria.press("👥 По менеджерам")
    managers = await maria.wait_message(contains="Менеджеры, месяц")
    # Neither ahead nor behind in his first hour (it said "опережаем темп на 0").
    assert "Пётр: 0 из 857 100 RUB (0 %), идём в темпе" in managers.text
    clock.set(msk(16, 12))
    await maria.send("/digest")
    photo = await maria.wait_message(kind="photo")
    assert "🐢 Отстают от темпа: Иван −662 250, Пётр −16 028 RUB" in photo.text
