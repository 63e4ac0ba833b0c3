"""/report: the figures for a period picked with a button or typed as two dates; a manager sees
only their own deals, a supervisor the team's."""

from __future__ import annotations

from bot.app import Application
from tests.e2e.scenario import join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser


async def test_reports_for_a_period_own_for_managers_team_for_the_head(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))  # Monday 02.03.2026 10:00, to Ivan
    petr = await join_team(tg, admin, "Менеджер", "Пётр")

    await ivan.send("/report")
    await ivan.press("Этот месяц")
    own = await ivan.wait_message(contains="Ваш отчёт")
    assert "01.03.2026 00:00 – 02.03.2026 10:00" in own.text
    assert "Новые лиды: 1" in own.text

    await petr.send("/report")
    await petr.press("Этот месяц")
    empty = await petr.wait_message(contains="Ваш отчёт")
    assert "Новые лиды: 0" in empty.text

    await maria.send("/report")
    await maria.press("📅 Свои даты")
    await maria.wait_message(contains="Напишите две даты")
    await maria.send("вчера")
    await maria.wait_message(contains="Не понял даты")
    await maria.send("01.03–02.03")
    team = await maria.wait_message(contains="Отчёт отдела продаж")
    assert "01.03.2026 00:00 – 03.03.2026 00:00" in team.text
    assert "Новые лиды: 1" in team.text
