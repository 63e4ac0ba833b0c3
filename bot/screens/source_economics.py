"""Unit economics as Telegram shows them: the table per lead source (from the digest and from
/report) and the /spend screens. A phone has no room for a table's columns, so each source is
a short block of lines; every message stays within Telegram's 4096 characters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import SpendPick
from bot.telegram.i18n import join_within_limit, money, money_exact, percent, period_text, t, tp
from domain.business import BUSINESS_SOURCE
from domain.sales_book import SalesBook
from domain.unit_economics import UNKNOWN_SOURCE, SourceEconomics
from services.unit_economics import RecentSpend, SourceReport

NO_VALUE = "—"


def economics_text(report: SourceReport, book: SalesBook) -> str:
    """The period's table: a block per source (the costliest first), then the totals."""
    table = report.table
    lines = [
        t("sources.title", period=period_text(report.period.start, report.period.end, report.zone)),
        t("sources.margin", margin=percent(table.margin), currency=book.currency)
        if table.margin is not None
        else t("sources.no_margin", currency=book.currency),
    ]
    lines.extend(_block(row, source_name(book, row.source_id)) for row in table.rows)
    lines.append(_block(table.total, t("sources.total")))
    return join_within_limit(lines, "list.more")


def _block(row: SourceEconomics, name: str) -> str:
    # Whole units, as every figure of the reports: kopecks of a pro rata spend or of a cost per
    # lead are noise on a phone screen.
    return t(
        "sources.row",
        name=name,
        spend=_whole(row.spend),
        leads=row.leads,
        cpl=_whole(row.cost_per_lead),
        customers=row.customers,
        cac=_whole(row.cac),
        revenue=money(row.revenue),
        romi=NO_VALUE if row.romi is None else f"{row.romi * 100:+.0f} %",
        payback=NO_VALUE if row.payback is None else t("sources.deals", count=row.payback),
    )


def source_name(book: SalesBook, source_id: str | None) -> str:
    if source_id is None or source_id == UNKNOWN_SOURCE:
        return t("sources.unknown")
    if source_id == BUSINESS_SOURCE:  # not a link's source: chats in the managers' own Telegram
        return t("business.source")
    try:
        return book.source(source_id).name
    except KeyError:  # a source since removed from the book: its deals still count
        return source_id


def month_name(month: dt.date) -> str:
    return f"{tp(f'spend.month.{month.month}')} {month.year}"


def spend_screen(recent: RecentSpend, book: SalesBook) -> tuple[str, InlineKeyboardMarkup | None]:
    """/spend: this month's and last month's spend per source, a button per source."""
    if not book.sources:
        return t("spend.no_sources"), None
    lines = [t("spend.title", currency=book.currency)]
    keyboard = InlineKeyboardBuilder()
    for index, source in enumerate(book.sources):
        lines.append(
            t(
                "spend.line",
                name=source.name,
                this_month=month_name(recent.this_month),
                this_amount=amount_text(recent.amounts.get((source.id, recent.this_month))),
                last_month=month_name(recent.last_month),
                last_amount=amount_text(recent.amounts.get((source.id, recent.last_month))),
            )
        )
        keyboard.button(text=source.name[:64], callback_data=SpendPick(source=index))
    lines.append(t("spend.how"))
    keyboard.adjust(2)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def month_screen(
    recent: RecentSpend, book: SalesBook, index: int
) -> tuple[str, InlineKeyboardMarkup]:
    """One source: which month to enter (this one or the one before)."""
    source = book.sources[index]
    keyboard = InlineKeyboardBuilder()
    for month in (recent.this_month, recent.last_month):
        keyboard.button(
            text=tp(
                "spend.month_button",
                month=month_name(month),
                amount=amount_text(recent.amounts.get((source.id, month))),
            )[:64],
            callback_data=SpendPick(source=index, month=month_key(month)),
        )
    keyboard.button(text=tp("spend.back"), callback_data=SpendPick())
    keyboard.adjust(1)
    return t("spend.pick_month", name=source.name), keyboard.as_markup()


def month_key(month: dt.date) -> int:
    return month.year * 100 + month.month


def month_from_key(key: int) -> dt.date | None:
    """The month a button names, or None for one that names no month (forged)."""
    try:
        return dt.date(key // 100, key % 100, 1)
    except (ValueError, OverflowError):  # no such month; a year past what a date holds
        return None


def amount_text(amount: Decimal | None) -> str:
    """Spend as entered: whole units, or with kopecks when it has them; "—" for none."""
    return NO_VALUE if amount is None else money_exact(amount)


def _whole(amount: Decimal | None) -> str:
    return NO_VALUE if amount is None else money(amount)
