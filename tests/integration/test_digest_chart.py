"""The digest's chart is a real PNG of the size the bot promises, within Telegram's limits for a
photo, drawn from a real digest (the forecast test's team, on SQLite and PostgreSQL). What it
looks like: docs/digest-example.png (`python -m bench.digest --example …`)."""

from __future__ import annotations

import struct

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.screens.digest import caption, chart, chart_size
from bot.telegram.i18n import create_i18n
from domain.clock import FixedClock
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.digest import digest
from storage.unit_of_work import UnitOfWork
from tests.integration.test_forecast import HEAD, MOSCOW, NOW, build

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which the format puts first."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_chart_is_a_png_a_phone_can_show(
    session_factory: async_sessionmaker[AsyncSession],
    book: SalesBook,
    calendar: WorkingCalendar,
) -> None:
    await build(session_factory)
    i18n = create_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        morning = await digest(
            UnitOfWork(session_factory), FixedClock(NOW), book, calendar, HEAD, MOSCOW
        )
        png = await chart(morning, book)
        text = caption(morning, book)

    width, height = png_size(png)
    assert (width, height) == chart_size(len(book.pipelines)) == (1200, 900)
    # Telegram's photo limits: width + height at most 10,000, a side ratio at most 20.
    assert width + height <= 10_000 and max(width, height) / min(width, height) <= 20
    assert 20_000 < len(png) < 10 * 2**20  # something was drawn; far below the 10 MB cap
    assert len(text) <= 1024
    assert "🔮 Прогноз: <b>1 017 000 RUB</b>" in text
