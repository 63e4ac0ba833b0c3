"""A report as files: an .xlsx workbook (the period's KPIs on the first sheet, then deals, stage
history and activities, one sheet each) and a .csv of the deals. Times are shown in the team's
time zone; texts come from the locale files."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.screens.digest import figure_value
from bot.telegram.i18n import tp
from domain.sales_book import SalesBook
from services.digest import Digest
from services.export import ExportRows

DEAL_COLUMNS = (
    "id",
    "created",
    "pipeline",
    "stage",
    "status",
    "manager",
    "source",
    "qualification",
    "amount",
    "currency",
    "lost_reason",
    "closed",
)
HISTORY_COLUMNS = ("deal", "at", "kind", "from", "to", "by", "override", "comment")
ACTIVITY_COLUMNS = ("deal", "at", "kind", "by", "comment")


def headers(columns: tuple[str, ...]) -> list[str]:
    return [tp(f"export.column.{column}") for column in columns]


async def workbook(digest: Digest, rows: ExportRows, book: SalesBook) -> bytes:
    kpi_rows: list[list[object]] = [
        [
            tp(f"digest.kpi.{kpi}"),
            figure_value(kpi, digest.kpis.figure(kpi).value, book),
            figure_value(kpi, digest.kpis.figure(kpi).previous, book),
        ]
        for kpi in digest.kpis.kpi_ids
    ]
    sheets: list[tuple[str, list[str], list[list[object]]]] = [
        (
            tp("export.sheet.kpis"),
            [tp("export.column.kpi"), tp("export.column.value"), tp("export.column.previous")],
            kpi_rows,
        ),
        (tp("export.sheet.deals"), headers(DEAL_COLUMNS), _cells(rows.deals, digest.zone)),
        (tp("export.sheet.history"), headers(HISTORY_COLUMNS), _cells(rows.history, digest.zone)),
        (
            tp("export.sheet.activities"),
            headers(ACTIVITY_COLUMNS),
            _cells(rows.activities, digest.zone),
        ),
    ]
    return await asyncio.to_thread(_write_workbook, sheets)


def deals_csv(rows: ExportRows, zone: ZoneInfo) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers(DEAL_COLUMNS))
    writer.writerows(_cells(rows.deals, zone))
    # With a byte-order mark Excel opens the Cyrillic correctly.
    return buffer.getvalue().encode("utf-8-sig")


def _write_workbook(sheets: list[tuple[str, list[str], list[list[object]]]]) -> bytes:
    from openpyxl import Workbook  # imported with the first workbook, not at start-up

    book = Workbook(write_only=True)
    for title, header, body in sheets:
        sheet = book.create_sheet(title[:31])  # Excel's limit for a sheet name
        sheet.append(header)
        for row in body:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cells(rows: list[tuple[object, ...]], zone: ZoneInfo) -> list[list[object]]:
    return [[_cell(value, zone) for value in row] for row in rows]


def _cell(value: object, zone: ZoneInfo) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, Decimal):
        return float(value)
    return value
