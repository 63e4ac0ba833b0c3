"""The head of sales' morning digest through the fake Bot API, driven by an injected clock: at
09:00 (the book's digest time) on a working day each supervisor gets exactly one photo with the
figures; running the job again that day sends nothing; days off are skipped; a manager cannot
get the team's digest."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.app import Application
from bot.telegram.callbacks import DigestDrill, DrillKind, StaffZone
from domain.clock import FixedClock
from tests.e2e.scenario import join_team, leave_request, staff_row
from tests.fake_telegram import FakeTelegram, FakeUser

MOSCOW = ZoneInfo("Europe/Moscow")


def msk(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


async def zone_of(app: Application, person: FakeUser) -> str | None:
    member = await staff_row(app, person.id)
    assert member is not None
    return member.timezone


async def run_digest_job(tg: FakeTelegram, app: Application) -> int:
    """The scheduler's two jobs, once each (plan the day's digests, then sweep); returns how
    many digests went out."""
    before = len(tg.calls_to("sendPhoto"))
    await app.sweeper.plan_digests()
    await app.sweeper.tick()
    return len(tg.calls_to("sendPhoto")) - before


async def test_each_supervisor_gets_one_digest_a_working_morning(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    oleg = await join_team(tg, admin, "Руководитель", "Олег")
    await leave_request(tg.user("Анна"))  # Monday 02.03, 10:00: one new lead this month
    await ivan.press("✅ Взять в работу")

    clock.set(msk(3, 3, 8, 59))  # Tuesday, a minute early
    assert await run_digest_job(tg, app) == 0
    clock.set(msk(3, 3, 9))
    assert await run_digest_job(tg, app) == 2
    for supervisor in (maria, oleg):
        photo = await supervisor.wait_message(kind="photo")
        assert photo.text.startswith("📊 Сводка: ООО «Ясная CRM» · 01.03–03.03 09:00")
        assert "⬆️ Новые лиды: 1 (до этого 0)" in photo.text
        assert "Конверсия в ключевой этап" in photo.text.split("\n")[1]  # the key figure first
        # March so far against its whole plan (the pace: see the forecast test below).
        assert "📈 Месяц: 0 из 3 000 000 RUB (0 % месячного плана)" in photo.text
        # The request of Monday 10:00 had 4 working hours in "Обращение": overdue since 14:00.
        assert "⏰ Просрочено: Иван 1 (№1)" in photo.text
        assert "⚡ Первый ответ вовремя: 100 % (1 из 1)" in photo.text
        assert len(photo.text) <= 1024
    photos = [c for c in tg.calls_to("sendPhoto") if c.ok]
    assert sorted(c.params["chat_id"] for c in photos) == sorted([maria.id, oleg.id])
    for call in photos:  # aiogram uploads the image as a multipart file part
        [image] = call.files.values()
        assert image.data.startswith(b"\x89PNG")

    clock.set(msk(3, 3, 15))  # the same day again: nothing
    assert await run_digest_job(tg, app) == 0
    clock.set(msk(7, 3, 9, 30))  # Saturday: the book sends no digest on days off
    assert await run_digest_job(tg, app) == 0
    clock.set(msk(10, 3, 9))  # Tuesday after the 9 March holiday: again one each
    assert await run_digest_job(tg, app) == 2
    assert len([c for c in tg.calls_to("sendPhoto") if c.ok]) == 4


async def test_digest_on_demand_is_for_supervisors_only(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await ivan.send("/digest")
    refusal = await ivan.wait_message(contains="нет прав")
    # Whose work it is, not only "no": the manager learns who gets the digest.
    assert "для роли «руководитель» и выше, а ваша роль — «менеджер»" in refusal.text
    assert "/help" in refusal.text
    assert not tg.calls_to("sendPhoto", chat_id=ivan.id)
    await maria.send("/digest")
    photo = await maria.wait_message(kind="photo")
    assert "Сводка: ООО «Ясная CRM»" in photo.text


async def test_the_digest_forecasts_and_drills_into_managers_and_pipelines(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    petr = await join_team(tg, admin, "Менеджер", "Пётр")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await maria.send("/digest")  # the hour the bot was set up: neither the team nor anyone behind
    first = await maria.wait_message(kind="photo")
    assert "   идём в темпе; нужно 142 857 RUB в рабочий день, осталось дней: 21" in first.text
    assert "Отстают от темпа" not in first.text
    await leave_request(tg.user("Анна"))  # Monday 02.03, 10:00; round robin: Ivan
    await ivan.press("✅ Взять в работу")
    await ivan.send("/deal 1")
    await ivan.press("💰 Сумма")
    await ivan.wait_message(contains="Какую сумму ожидаете")
    await ivan.send("500 000")
    card = await ivan.wait_message(contains="Ожидаемая сумма")
    assert "💰 Ожидаемая сумма: 500 000 RUB" in card.text

    clock.set(msk(3, 3, 9))
    await maria.send("/digest")
    photo = await maria.wait_message(kind="photo")
    # 500,000 in the request stage (probability 0.05). March so far for the team, from when it
    # began in the bot (the admin's first start, Monday 10:00): 8 of its 188 working hours, 0.0426
    # of the 3,000,000 plan = 127,800 expected by now (paced from the 1st it was 142,800, for
    # an hour before the bot had any sale to count); the plan over the 20 working days left,
    # today included, is 150,000 a day.
    assert (
        "🔮 Прогноз: 25 000 RUB — открытые сделки (1) на 500 000 × вероятность этапа" in photo.text
    )
    assert "📈 Месяц: 0 из 3 000 000 RUB (0 % месячного плана)" in photo.text
    assert (
        "отстаём от темпа на 127 800; нужно 150 000 RUB в рабочий день, осталось дней: 20"
    ) in photo.text
    # Each manager's plan is half the team's, paced from when they joined (Monday 10:00): 8 of
    # their 188 working hours, 0.0426 of 1,500,000, 63,900 expected of each by now.
    assert "🐢 Отстают от темпа: Иван −63 900, Пётр −63 900 RUB" in photo.text
    assert len(photo.text) <= 1024
    pipelines = [pipeline.name for pipeline in app.book.pipelines]
    assert photo.button_texts == [
        "👥 По менеджерам",
        "💸 Источники",
        *(f"📊 Воронка: {p}" for p in pipelines),
    ]

    await maria.press("👥 По менеджерам")
    table = await maria.wait_message(contains="Менеджеры")
    # Ivan's deal is overdue since Monday 14:00 (4 working hours in "Обращение").
    assert table.text.index("Иван:") < table.text.index("Пётр:")  # equally behind: by name
    assert (
        "Иван: 0 из 1 500 000 RUB (0 %), отстаём от темпа на 63 900\n"
        "   прогноз 25 000 RUB, открытых сделок 1, просрочено 1"
    ) in table.text
    assert "Пётр: 0 из 1 500 000 RUB (0 %)" in table.text
    assert table.button_texts == ["👤 Иван", "👤 Пётр"]

    await maria.press("👤 Иван")
    one = await maria.wait_message(contains="👤 Иван ·")
    assert one.text.startswith("👤 Иван · 01.03–03.03 09:00")
    assert "🔮 Прогноз: 25 000 RUB" in one.text
    assert "📈 Месяц: 0 из 1 500 000 RUB (0 % месячного плана)" in one.text
    assert "🐢" not in one.text

    await maria.press(f"📊 Воронка: {pipelines[0]}")
    funnel = await maria.wait_message(contains=f"📊 {pipelines[0]} ·")
    assert f"Воронка «{pipelines[0]}»" in funnel.text
    assert "🔻 Обращение: 1, дальше 0 % (цель 80 %)" in funnel.text
    assert "📈" not in funnel.text  # a pipeline has no plan of its own

    for forged in (DigestDrill(kind=DrillKind.MANAGERS), DigestDrill(kind=DrillKind.MANAGER)):
        answer = await petr.press_data(forged.pack())
        assert answer is None or "Менеджеры" not in (answer.text or "")
    assert not [m for m in tg.messages_in(petr.id) if "Менеджеры" in (m.text or "")]
    stale = await maria.press_data(DigestDrill(kind=DrillKind.PIPELINE, key=99).pack())
    assert stale is not None and "устарела" in (stale.text or "")


async def test_each_supervisor_gets_the_digest_at_nine_in_their_own_time_zone(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    oleg = await join_team(tg, admin, "Руководитель", "Олег")
    await maria.send("/timezone")
    choice = await maria.wait_message(contains="часовой пояс команды: Москва (UTC+3)")
    assert "Владивосток (UTC+10)" in choice.button_texts
    await maria.press("Владивосток (UTC+10)")
    saved = await maria.wait_message(contains="✅ Часовой пояс")
    # Monday 02.03 10:00 in Moscow is 17:00 in Vladivostok.
    assert saved.text.startswith("✅ Часовой пояс: Владивосток (UTC+10), у вас сейчас 17:00")
    assert await zone_of(app, maria) == "Asia/Vladivostok"

    await oleg.send("/timezone Mars/Olympus_Mons")
    await oleg.wait_message(contains="Не знаю часового пояса «Mars/Olympus_Mons»")
    assert await zone_of(app, oleg) is None
    # Typed after the question, in any case, or a city of the buttons.
    await oleg.send("/timezone")
    await oleg.wait_message(contains="напишите его название, например: Asia/Dubai")
    await oleg.send("Mars/Olympus_Mons")
    await oleg.wait_message(contains="Не знаю часового пояса «Mars/Olympus_Mons»")
    await oleg.send("Mars/" + "x" * 4000)  # a paste is echoed cut, within Telegram's limit
    await oleg.wait_message(contains="Не знаю часового пояса «Mars/xxx")
    await oleg.send("asia/dubai")  # still the answer: a wrong name is asked again
    await oleg.wait_message(contains="✅ Часовой пояс: Asia/Dubai (UTC+4)")
    assert await zone_of(app, oleg) == "Asia/Dubai"
    await oleg.send("/timezone")
    await oleg.send("Екатеринбург (UTC+5)")
    await oleg.wait_message(contains="✅ Часовой пояс: Екатеринбург (UTC+5)")
    await oleg.send("/timezone")
    await oleg.send("перезвонить завтра в 11")  # not a zone: the reminder it is
    await oleg.wait_message(contains="🔔 Напомню 03.03.2026 11:00: перезвонить")
    await oleg.send("/timezone Москва")
    await oleg.wait_message(contains="✅ Часовой пояс: Москва (UTC+3)")
    assert await zone_of(app, oleg) == "Europe/Moscow"

    clock.set(msk(3, 3, 1, 59))  # Tuesday 08:59 in Vladivostok
    assert await run_digest_job(tg, app) == 0
    clock.set(msk(3, 3, 2))  # 09:00 in Vladivostok, 02:00 in Moscow: Maria's only
    assert await run_digest_job(tg, app) == 1
    assert tg.calls_to("sendPhoto", chat_id=maria.id)
    clock.set(msk(3, 3, 9))  # 09:00 in Moscow: Oleg's, and nothing more for Maria
    assert await run_digest_job(tg, app) == 1
    assert len(tg.calls_to("sendPhoto", chat_id=oleg.id)) == 1
    assert len(tg.calls_to("sendPhoto", chat_id=maria.id)) == 1

    stale = await maria.press_data(StaffZone(index=99).pack())
    assert stale is not None and "устарела" in (stale.text or "")
    await maria.send("/timezone")
    await maria.press("Как у команды")
    await maria.wait_message(contains="✅ Часовой пояс: Москва (UTC+3)")
    assert await zone_of(app, maria) is None
