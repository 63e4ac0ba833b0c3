"""The head of sales' morning digest through the fake Bot API, driven by an injected clock: at
09:00 (the book's digest time) on a working day each supervisor gets exactly one photo with the
figures; running the job again that day sends nothing; days off are skipped; a manager cannot
get the team's digest."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.app import Application
from domain.clock import FixedClock
from tests.e2e.scenario import join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

MOSCOW = ZoneInfo("Europe/Moscow")


def msk(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


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
        # The plan so far: 3,000,000 x 57 h (01.03 00:00 to 03.03 09:00) / 744 h of March.
        assert "💰 Выручка 0 из плана 229 839 RUB" in photo.text
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
    await ivan.wait_message(contains="нет прав")
    assert not tg.calls_to("sendPhoto", chat_id=ivan.id)
    await maria.send("/digest")
    photo = await maria.wait_message(kind="photo")
    assert "Сводка: ООО «Ясная CRM»" in photo.text
