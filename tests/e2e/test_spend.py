"""/spend through the fake Bot API: a head of sales enters what each lead source cost a month by
buttons, or uploads a .csv or .xlsx; a file with a broken row is refused by row number and
nothing of it is stored; a manager can do none of it; the digest and a team report show the
unit economics per source.

The clock stands at Monday 02.03.2026 10:00 in Moscow: this month is March, the last February.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select

from bot.app import Application
from bot.telegram.callbacks import DigestDrill, DrillKind, ReportSources, SpendPick
from domain.clock import FixedClock
from storage.models import MarketingSpendRow
from tests.e2e.scenario import join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

MARCH, FEBRUARY = dt.date(2026, 3, 1), dt.date(2026, 2, 1)
VK = "Реклама во ВКонтакте"
MOSCOW = ZoneInfo("Europe/Moscow")


async def spend(app: Application) -> dict[tuple[str, dt.date], Decimal]:
    async with app.session_factory() as session:
        rows = await session.execute(
            select(MarketingSpendRow.source_id, MarketingSpendRow.month, MarketingSpendRow.amount)
        )
        return {(source, month): Decimal(amount) for source, month, amount in rows}


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def test_a_head_of_sales_enters_spend_by_buttons(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await maria.send("/spend")
    screen = await maria.wait_message(contains="Расходы на маркетинг")
    assert f"{VK} · март 2026: —, февраль 2026: —" in screen.text
    assert screen.button_texts == [source.name for source in app.book.sources]
    # A sum typed before a source and a month is pointed to the buttons; nothing is stored.
    await maria.send("150 000")
    await maria.wait_message(contains="Сначала выберите кнопками в списке /spend источник и месяц")
    assert await spend(app) == {}

    await maria.press(VK)
    months = await maria.wait_message(contains="за какой месяц")
    assert months.button_texts == ["март 2026: —", "февраль 2026: —", "« К источникам"]
    await maria.press("март 2026: —")
    await maria.wait_message(contains=f"Сколько потрачено на «{VK}» за март 2026?")
    await maria.send("-5")
    await maria.wait_message(contains="не может быть отрицательным")
    await maria.send("2 000 000 000")
    await maria.wait_message(contains="больше 1 000 000 000 в месяц")
    await maria.send("сто тысяч")
    await maria.wait_message(contains="Не похоже на сумму")
    await maria.send_sticker()
    await maria.wait_message(contains="Напишите сумму числом")
    assert await spend(app) == {}
    await maria.send("150 000")
    saved = await maria.wait_message(contains="✅ Сохранено")
    assert saved.text.startswith(f"✅ Сохранено: {VK}, март 2026 — 150 000 RUB.")
    assert f"{VK} · март 2026: 150 000, февраль 2026: —" in saved.text
    assert await spend(app) == {("ads_vk", MARCH): Decimal("150000.00")}

    # Entered again, the month's amount is replaced; last month's is its own.
    await maria.press(VK, message_id=saved.message_id)
    await maria.press("март 2026: 150 000")
    await maria.wait_message(contains="Сколько потрачено")
    await maria.send("120000,50")
    await maria.wait_message(contains="✅ Сохранено")
    await maria.press(VK)
    await maria.press("февраль 2026: —")
    await maria.wait_message(contains="за февраль 2026")
    await maria.send("0")
    again = await maria.wait_message(contains="✅ Сохранено")
    assert f"{VK} · март 2026: 120 000,50, февраль 2026: 0" in again.text
    assert await spend(app) == {
        ("ads_vk", MARCH): Decimal("120000.50"),
        ("ads_vk", FEBRUARY): Decimal("0.00"),
    }
    stale = await maria.press_data(SpendPick(source=99).pack())
    assert stale is not None and "устарела" in (stale.text or "")


async def test_a_head_of_sales_uploads_a_csv_and_an_xlsx(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await maria.send("/spend")
    await maria.wait_message(contains="Расходы на маркетинг")
    # As Excel in Russian saves it: Windows-1251, ";" between cells, a header.
    good_csv = (
        "Источник;Месяц;Сумма\r\n"
        "ads_vk;2026-02;80 000\r\n"
        "Яндекс Директ;02.2026;120000,50\r\n"
        "site;2026-03;0\r\n"
    ).encode("cp1251")
    await maria.send_document("расходы.csv", data=good_csv, mime_type="text/csv")
    imported = await maria.wait_message(contains="Загружено строк")
    assert imported.text.startswith("✅ Загружено строк: 3.")
    assert await spend(app) == {
        ("ads_vk", FEBRUARY): Decimal("80000.00"),
        ("ads_yandex", FEBRUARY): Decimal("120000.50"),
        ("site", MARCH): Decimal("0.00"),
    }

    # The /spend screen is no dialogue: text after it is read as always.
    await maria.send("перезвонить завтра в 11")
    await maria.wait_message(contains="🔔 Напомню")

    # Half an hour after the screen a bare file is no upload any more; captioned /spend it is.
    # An .xlsx: a month Excel turned into a date, amounts as numbers; February's VK replaced.
    workbook = xlsx(
        [
            ["source", "month", "amount"],
            ["ads_vk", dt.datetime(2026, 2, 1), 95_000],
            ["partner_integrator", "2026-03", 30_000.5],
        ]
    )
    clock.advance(dt.timedelta(minutes=31))
    await maria.send_document("late.csv", data=b"ads_vk,2026-01,1\n", mime_type="text/csv")
    await maria.wait_message(contains="Я понимаю текст и команды")
    await maria.send_document(
        "spend.xlsx",
        data=workbook,
        mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        caption="/spend",
    )
    await maria.wait_message(contains="✅ Загружено строк: 2.")
    stored = await spend(app)
    assert stored[("ads_vk", FEBRUARY)] == Decimal("95000.00")
    assert stored[("partner_integrator", MARCH)] == Decimal("30000.50")
    assert len(stored) == 4

    await maria.send_document("spend.pdf")
    await maria.wait_message(contains="Нужен файл .csv или .xlsx")
    await maria.send_document("spend.xlsx", data=b"not a workbook at all")
    await maria.wait_message(contains="Не получается прочитать файл как .xlsx")
    downloads = len(tg.calls_to("getFile"))
    await maria.send_document("big.csv", data=b"ads_vk,2026-03,1\n" * 70_000)  # 1.19 MB
    await maria.wait_message(contains="Файл больше 1000 КБ")
    assert len(tg.calls_to("getFile")) == downloads  # refused by its size, not downloaded
    assert len(await spend(app)) == 4


async def test_a_file_with_broken_rows_is_refused_by_row_number_and_nothing_is_stored(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await maria.send("/spend")
    await maria.wait_message(contains="Расходы на маркетинг")
    broken = (
        b"source,month,amount\n"
        b"ads_vk,2026-03,10000\n"  # good, but the file goes whole or not at all
        b"ads_tiktok,2026-03,5000\n"
        b"site,2026-14,5000\n"
        b"ads_yandex,2026-03,-100\n"
        b'ads_yandex,2026-02,"1,500"\n'
    )
    await maria.send_document("spend.csv", data=broken, mime_type="text/csv")
    refused = await maria.wait_message(contains="Ничего не загружено")
    assert "строк с ошибками — 4" in refused.text
    assert "Строка 3: нет такого источника «ads_tiktok»" in refused.text
    assert "Строка 4: «2026-14» — не месяц" in refused.text
    assert "Строка 5: отрицательная сумма «-100»" in refused.text
    assert "Строка 6: в сумме «1,500» больше двух знаков после запятой" in refused.text
    assert "Строка 2" not in refused.text
    assert await spend(app) == {}


async def test_a_manager_can_neither_enter_spend_nor_see_the_sources(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    await ivan.send("/spend")
    await ivan.wait_message(contains="нет прав")
    forged = await ivan.press_data(SpendPick(source=0, month=202603).pack())
    assert forged is not None and "нет прав" in (forged.text or "")
    await ivan.send("150 000")
    await ivan.wait_message()
    await ivan.send_document(
        "spend.csv", data=b"ads_vk,2026-03,150000\n", mime_type="text/csv", caption="/spend"
    )
    await ivan.wait_message(contains="нет прав")
    assert await spend(app) == {}

    answer = await ivan.press_data(ReportSources(start=1772312400, end=1772442000).pack())
    assert answer is not None and "нет прав" in (answer.text or "")
    await ivan.press_data(DigestDrill(kind=DrillKind.SOURCES).pack())
    assert not [m for m in tg.messages_in(ivan.id) if "Экономика источников" in (m.text or "")]

    await ivan.send("/report")
    await ivan.press("Этот месяц")
    own = await ivan.wait_message(contains="Ваш отчёт")
    # No sources under one's own.
    assert own.button_texts == ["📥 Выгрузить .xlsx и .csv", "🗓 Другой период"]


async def test_the_digest_and_a_team_report_show_the_economics_per_source(
    tg: FakeTelegram, app: Application, admin: FakeUser, clock: FixedClock
) -> None:
    ivan = await join_team(tg, admin, "Менеджер", "Иван")
    maria = await join_team(tg, admin, "Руководитель", "Мария")
    await leave_request(tg.user("Анна"), source="ads_vk")  # Monday 02.03, 10:00
    await ivan.press("✅ Взять в работу")
    await maria.send("/spend")
    await maria.press(VK)
    await maria.press("март 2026: —")
    await maria.send("74 400")
    await maria.wait_message(contains="✅ Сохранено")

    clock.set(dt.datetime(2026, 3, 3, 9, 0, tzinfo=MOSCOW))  # Tuesday morning
    await maria.send("/digest")
    photo = await maria.wait_message(kind="photo")
    assert photo.button_texts[:2] == ["👥 По менеджерам", "💸 Источники"]
    await maria.press("💸 Источники")
    table = await maria.wait_message(contains="Экономика источников")
    # The month so far is 01.03 00:00 to 03.03 09:00: 57 of March's 744 hours, so
    # 74,400 x 57 / 744 = 5,700 of the spend; one lead: CPL 5,700; no customer yet: no CAC,
    # no payback; ROMI (0 x 0.35 - 5,700) / 5,700 = -100 %.
    assert table.text.startswith("💸 Экономика источников лидов · 01.03.2026 – 03.03.2026 09:00")
    assert "маржа 35 %" in table.text
    assert (
        f"{VK}\n   расход 5 700 · лидов 1 · CPL 5 700\n"
        "   клиентов 0 · CAC — · выручка 0\n"
        "   ROMI -100 % · окупаемость CAC —"
    ) in table.text
    # Sources without spend are shown, not hidden.
    assert "Рекомендация клиента\n   расход — · лидов 0 · CPL —" in table.text
    assert "Итого\n   расход 5 700 · лидов 1 · CPL 5 700" in table.text
    assert table.text.index(VK) < table.text.index("Рекомендация клиента")
    assert len(table.text) <= 4096

    # A team report for 01.03-02.03 (two of March's 31 days): 74,400 x 2 / 31 = 4,800.
    await maria.send("/report")
    await maria.press("📅 Свои даты")
    await maria.send("01.03–02.03")
    report = await maria.wait_message(contains="Отчёт отдела продаж")
    assert report.button_texts == [
        "📥 Выгрузить .xlsx и .csv",
        "💸 По источникам",
        "🗓 Другой период",
    ]
    await maria.press("💸 По источникам")
    sources = await maria.wait_message(contains="Экономика источников")
    assert "01.03.2026 – 02.03.2026\n" in sources.text
    assert f"{VK}\n   расход 4 800 · лидов 1 · CPL 4 800" in sources.text
