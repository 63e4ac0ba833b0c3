"""An uploaded spend table (.csv or .xlsx) as rows of text cells; what the cells mean is the
domain's business (`domain.unit_economics.parse_spend_table`).

A .csv may come from Excel in Russian (Windows-1251, ";" between cells) or from anywhere else
(UTF-8, ","); the first line decides the separator. In an .xlsx the first sheet is read, its
values as last calculated; a date cell stands for its month, a number for itself.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Literal

from domain.unit_economics import MAX_SPEND_ROWS, SpendTableTooLong

MAX_SPEND_FILE_BYTES = 1_000_000
"""An upload's size limit: a spend table of the most rows allowed is a few dozen kilobytes."""

ROWS_READ = MAX_SPEND_ROWS + 100
"""Rows read at most, blank ones and a header included; a longer file is refused, not cut."""

TableKind = Literal["csv", "xlsx"]


class UnreadableTable(Exception):
    """The file is not a table of its kind (a renamed file, a broken download)."""


def table_kind(filename: str | None) -> TableKind | None:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    return None


async def read_table(kind: TableKind, data: bytes) -> list[list[str]]:
    """The rows of the file, each cell as text; parsed in a worker thread, so a big workbook
    does not stall the bot."""
    return await asyncio.to_thread(_read_csv if kind == "csv" else _read_xlsx, data)


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in Russian saves .csv in Windows-1251, which decodes any byte.
        text = data.decode("cp1251")
    if "\x00" in text:
        raise UnreadableTable("binary data in a .csv")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first_line else "\t" if "\t" in first_line else ","
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > ROWS_READ:
                raise SpendTableTooLong(rows=len(rows), limit=MAX_SPEND_ROWS)
    except csv.Error as error:
        raise UnreadableTable(str(error)) from None
    return rows


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # imported with the first workbook, not at start-up

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        # openpyxl reports a file that is not a workbook in many ways (a bad zip, a missing
        # part, broken XML); each means the same to the person who sent it.
        raise UnreadableTable(str(error)) from None
    try:
        rows: list[list[str]] = []
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(value) for value in values])
            if len(rows) > ROWS_READ:
                raise SpendTableTooLong(rows=len(rows), limit=MAX_SPEND_ROWS)
        return rows
    except SpendTableTooLong:
        raise
    except Exception as error:
        raise UnreadableTable(str(error)) from None
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        # A month typed as "2026-03" or "03.2026" often turns into a date in Excel.
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 150000.5, not
        # 150000.50000000001.
        number = Decimal(repr(value))
        if number.is_finite() and number == number.to_integral_value():
            return str(int(number))
        return str(number)
    return str(value)
