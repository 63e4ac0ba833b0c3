"""/report: the figures for a period picked with a button or typed as two dates; a manager sees
only their own deals, a supervisor the team's."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

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
    assert "01.03.2026 – 02.03.2026 10:00" in own.text  # this month so far
    assert "Новые лиды: 1" in own.text

    # Another period from under the report, in its place: this week against the one before.
    await ivan.press("🗓 Другой период")
    picker = await ivan.wait_message(contains="За какой период")
    assert picker.message_id == own.message_id and picker.has_button("Прошлая неделя")
    await ivan.press("Прошлая неделя")
    before = await ivan.wait_message(contains="Ваш отчёт")
    assert before.message_id == own.message_id
    assert "23.02.2026 – 01.03.2026" in before.text and "Новые лиды: 0" in before.text
    assert before.has_button("🗓 Другой период")

    await petr.send("/report")
    await petr.press("Этот месяц")
    empty = await petr.wait_message(contains="Ваш отчёт")
    assert "Новые лиды: 0" in empty.text

    await maria.send("/report")
    await maria.press("📅 Свои даты")
    await maria.wait_message(contains="Напишите две даты")
    await maria.send("вчера")
    await maria.wait_message(contains="Не понял даты")
    await maria.send("31.02–02.03")
    await maria.wait_message(exact="Такой даты нет: 31.02. Проверьте число и месяц.")
    await maria.send("02.03")  # one date: that day's report
    day = await maria.wait_message(contains="Отчёт отдела продаж")
    assert day.text.startswith("📈 Отчёт отдела продаж · 02.03.2026\n")
    await maria.send("/report")
    await maria.press("📅 Свои даты")
    await maria.wait_message(contains="или одну — отчёт за этот день")
    await maria.send("01.03–02.03")
    team = await maria.wait_message(contains="Отчёт отдела продаж")
    assert "Отчёт отдела продаж · 01.03.2026 – 02.03.2026\n" in team.text  # both days in
    assert "Новые лиды: 1" in team.text


async def test_the_report_exports_an_xlsx_and_a_csv(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"))
    await ivan.send("/deal 1")
    await ivan.press("📞 Звонок")
    await ivan.send("Договорились о демо")
    await ivan.wait_message(contains="Договорились о демо")

    await maria.send("/report")
    await maria.press("Этот месяц")
    await maria.wait_message(contains="Отчёт отдела продаж")
    await maria.press("📥 Выгрузить .xlsx и .csv")
    xlsx_message = await maria.wait_message(kind="document")
    csv_message = await maria.wait_message(kind="document")
    documents = {
        call.params["document"]: call
        for call in tg.calls_to("sendDocument", chat_id=maria.id)
        if call.ok
    }
    assert len(documents) == 2 and xlsx_message.message_id != csv_message.message_id
    # Each file says what it holds and for when: no bare attachments in the chat.
    assert xlsx_message.text.startswith("📊 Отчёт · 01.03.2026 – 02.03.2026 10:00: ")
    assert csv_message.text == "📄 Сделки · 01.03.2026 – 02.03.2026 10:00, CSV"
    files = {
        upload.filename: upload.data
        for call in documents.values()
        for upload in call.files.values()
    }
    xlsx_name = "report_20260301_20260302.xlsx"
    assert set(files) == {xlsx_name, "report_20260301_20260302_deals.csv"}

    workbook = load_workbook(io.BytesIO(files[xlsx_name]), read_only=True)
    assert workbook.sheetnames == ["Показатели", "Сделки", "История этапов", "Действия"]
    kpis = list(workbook["Показатели"].values)
    assert kpis[0] == ("Показатель", "Значение", "До этого")
    assert ("Новые лиды", "1", "0") in kpis
    deals = list(workbook["Сделки"].values)
    assert deals[1][:5] == (1, "02.03.2026 10:00", "implementation_mid", "request", "open")
    activities = list(workbook["Действия"].values)
    assert activities[1][2:] == ("call", ivan.id, "Договорились о демо")

    text = files["report_20260301_20260302_deals.csv"].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["№", "Создана", "Воронка"] and len(rows) == 2
