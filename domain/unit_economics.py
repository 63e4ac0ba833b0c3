"""Unit economics per lead source, defined once here (the README repeats it in words).

For a period (half-open, as in `domain/kpi.py`) and each lead source:

- **leads**: deals created in the period from the source (a deal keeps the source of the link
  the lead came by; "unknown" when there was none the book knows).
- **spend**: the marketing spend entered for the source (`/spend`), one amount per calendar
  month, counted pro rata to the share of each month the period covers, by the local clock
  (the rule of the monthly plan, `domain.kpi.month_shares`). A month with no amount entered
  counts as nothing; a source with no amount in any month the period touches has no spend
  ("—"), which is not the same as a spend of 0.
- **cost per lead (CPL)** = spend / leads.
- **customers**: deals won in the period that came from the source (one won deal, one
  customer), and **revenue** their won amounts.
- **CAC** (customer acquisition cost) = spend / customers.
- **ROMI** (return on marketing investment) = (revenue x margin - spend) / spend, where margin
  is the book's gross margin share (`economics.margin`): what the won deals leave after their
  cost, against what the marketing cost. 0 means the spend was just earned back.
- **CAC payback** = CAC / (average deal x margin), the average deal being the source's revenue
  / customers: how many of the source's average deals' margin it takes to earn back the cost
  of acquiring one customer. Below 1, the first deal pays for itself. It equals spend /
  (revenue x margin), so it is also 1 / (1 + ROMI).

Every ratio is None ("—") where its denominator is zero or unknown (no spend, no leads, no
customers, no revenue, no margin in the book). The totals row is the same figures over every
source together (blended: the leads and customers of sources without spend count too).
Money is rounded to cents, ROMI to 0.01 %, the payback to 0.01 deal, each half up.

The table lists every source of the book, those without spend too, then any other source the
deals name (a source since removed from the book, "unknown"); the costliest first, then by
leads. Spend is entered per source and month: at least 0, at most `MAX_MONTHLY_SPEND`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from domain.amounts import read_money
from domain.errors import DomainError
from domain.sales_book import LeadSource

MAX_MONTHLY_SPEND = Decimal(1_000_000_000)
"""A billion a month for one source: far beyond a small company's advertising, so anything
larger is a typo (an extra zero, a phone number pasted into the amount)."""

MAX_SPEND_ROWS = 2000
"""Rows one upload may hold: years of months for dozens of sources."""

UNKNOWN_SOURCE = "unknown"
"""What a deal stores as its source when the lead came by no link the book knows."""

FIRST_YEAR, LAST_YEAR = 2000, 2099
"""Months outside these years are typos (a two-digit year, swapped fields)."""

CENTS = Decimal("0.01")
ROMI_STEP = Decimal("0.0001")
PAYBACK_STEP = Decimal("0.01")

SpendProblem = Literal["not_a_number", "negative", "too_many_decimals", "too_large"]
RowProblemReason = Literal[
    "columns",
    "unknown_source",
    "bad_month",
    "not_a_number",
    "negative",
    "too_many_decimals",
    "too_large",
    "duplicate",
]


@dataclass(eq=False)
class InvalidSpend(DomainError):
    """An amount of spend that cannot be stored."""

    reason: SpendProblem


@dataclass(eq=False)
class InvalidMonth(DomainError):
    """Not a month written as YYYY-MM or MM.YYYY, or one outside `FIRST_YEAR`..`LAST_YEAR`."""

    text: str


@dataclass(eq=False)
class UnknownSource(DomainError):
    """Spend is entered for the book's sources only."""

    source_id: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row of an upload cannot be imported."""

    row: int
    """The row's number in the file, as a spreadsheet shows it (the first row is 1)."""
    reason: RowProblemReason
    value: str = ""
    """The cell at fault, as written; for "duplicate", the number of the row it repeats."""


@dataclass(eq=False)
class SpendTableInvalid(DomainError):
    """An upload with rows that cannot be imported: nothing of it is."""

    problems: list[RowProblem]


@dataclass(eq=False)
class SpendTableEmpty(DomainError):
    """An upload without a single row of spend."""


@dataclass(eq=False)
class SpendTableTooLong(DomainError):
    rows: int
    limit: int


@dataclass(frozen=True, slots=True)
class SpendEntry:
    """What one source cost in one month."""

    source_id: str
    month: dt.date
    """The 1st of the month."""
    amount: Decimal


# --- Entering spend -------------------------------------------------------------------------

_NUMBER = re.compile(r"([0-9]+)(?:[.,]([0-9]+))?")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_MONTH_YEAR = re.compile(r"(\d{1,2})\.(\d{4})")


def validate_spend(amount: Decimal) -> Decimal:
    """A month's spend, normalised to cents; raises InvalidSpend."""
    if not amount.is_finite():
        raise InvalidSpend("not_a_number")
    if amount < 0:
        raise InvalidSpend("negative")
    if amount > MAX_MONTHLY_SPEND:
        raise InvalidSpend("too_large")
    if amount != amount.quantize(CENTS):
        raise InvalidSpend("too_many_decimals")
    return amount.quantize(CENTS)


def parse_spend(text: str) -> Decimal:
    """Spend as people type it: "150000", "150 000", "150 000,50", "0", "1,2 млн", "150к"
    (domain.amounts.read_money, the deal amount's reading); raises InvalidSpend."""
    money = read_money(text)
    if money is not None:
        return validate_spend(money)
    compact = "".join(text.split())
    negative = compact[:1] in ("-", "−")
    if _NUMBER.fullmatch(compact[1:] if negative else compact) is None:
        raise InvalidSpend("not_a_number")
    if negative:
        raise InvalidSpend("negative")
    # A number read_money does not take has more than two decimals. Also "1,500": 1.5 to a
    # Russian reader, 1500 to an English one; refused, not guessed.
    raise InvalidSpend("too_many_decimals")


def validate_month(month: dt.date) -> dt.date:
    """The 1st of the month holding `month`; raises InvalidMonth outside the believable years."""
    if not FIRST_YEAR <= month.year <= LAST_YEAR:
        raise InvalidMonth(month.isoformat())
    return month.replace(day=1)


def parse_month(text: str) -> dt.date:
    """A month written "2026-03" or "03.2026" (also "3.2026"), as its 1st day."""
    compact = text.strip()
    found = _YEAR_MONTH.fullmatch(compact)
    if found is not None:
        year, month = found.groups()
    else:
        found = _MONTH_YEAR.fullmatch(compact)
        if found is None:
            raise InvalidMonth(text)
        month, year = found.groups()
    try:
        first = dt.date(int(year), int(month), 1)
    except ValueError:
        raise InvalidMonth(text) from None
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise InvalidMonth(text)
    return first


def this_and_last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The 1st of the month holding `today` and of the month before it."""
    this_month = today.replace(day=1)
    return this_month, (this_month - dt.timedelta(days=1)).replace(day=1)


def find_source(sources: Sequence[LeadSource], written: str) -> LeadSource | None:
    """The book's source by its id (exactly) or its name (in any case)."""
    cleaned = written.strip()
    for source in sources:
        if source.id == cleaned:
            return source
    folded = cleaned.casefold()
    for source in sources:
        if source.name.casefold() == folded:
            return source
    return None


def parse_spend_table(
    rows: Sequence[Sequence[str]], sources: Sequence[LeadSource]
) -> list[SpendEntry]:
    """An upload's rows (cells as text) as spend entries: `source, month, amount` a row, the
    source by id or name, the month as YYYY-MM or MM.YYYY. A first row starting with
    "source"/"источник" is a header; blank rows are skipped. Every row is checked before any
    is accepted: one bad row and SpendTableInvalid lists them all, by row number."""
    entries: list[SpendEntry] = []
    problems: list[RowProblem] = []
    first_seen: dict[tuple[str, dt.date], int] = {}
    data_rows = 0
    for number, cells in enumerate(rows, start=1):
        values = [cell.strip() for cell in cells]
        while values and not values[-1]:
            values.pop()
        if not values:
            continue
        if number == 1 and _is_header(values[0], sources):
            continue
        data_rows += 1
        if data_rows > MAX_SPEND_ROWS:
            raise SpendTableTooLong(rows=data_rows, limit=MAX_SPEND_ROWS)
        entry = _entry(number, values, sources, problems)
        if entry is None:
            continue
        key = (entry.source_id, entry.month)
        if key in first_seen:
            problems.append(RowProblem(number, "duplicate", str(first_seen[key])))
            continue
        first_seen[key] = number
        entries.append(entry)
    if problems:
        raise SpendTableInvalid(problems)
    if not entries:
        raise SpendTableEmpty()
    return entries


def _is_header(first_cell: str, sources: Sequence[LeadSource]) -> bool:
    word = first_cell.casefold()
    return word.startswith(("source", "источник")) and find_source(sources, first_cell) is None


def _entry(
    number: int, values: list[str], sources: Sequence[LeadSource], problems: list[RowProblem]
) -> SpendEntry | None:
    """One row as an entry, or None after noting each of its problems."""
    if len(values) != 3:
        problems.append(RowProblem(number, "columns", str(len(values))))
        return None
    source_text, month_text, amount_text = values
    source = find_source(sources, source_text)
    if source is None:
        problems.append(RowProblem(number, "unknown_source", source_text))
    month: dt.date | None = None
    try:
        month = parse_month(month_text)
    except InvalidMonth:
        problems.append(RowProblem(number, "bad_month", month_text))
    amount: Decimal | None = None
    try:
        amount = parse_spend(amount_text)
    except InvalidSpend as error:
        problems.append(RowProblem(number, error.reason, amount_text))
    if source is None or month is None or amount is None:
        return None
    return SpendEntry(source.id, month, amount)


# --- The figures ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceResults:
    """What a source brought in a period, as the deals tell it."""

    leads: int = 0
    customers: int = 0
    revenue: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class SourceEconomics:
    """One row of the table: a source's figures for the period (the totals row has no id)."""

    source_id: str | None
    """None for the totals row."""
    leads: int
    customers: int
    revenue: Decimal
    spend: Decimal | None
    """None: no spend entered for any month the period touches."""
    margin: Decimal | None = field(default=None, repr=False)
    """The book's gross margin share; None when the book has none."""

    @property
    def cost_per_lead(self) -> Decimal | None:
        return _money(_ratio(self.spend, self.leads))

    @property
    def cac(self) -> Decimal | None:
        return _money(_ratio(self.spend, self.customers))

    @property
    def average_deal(self) -> Decimal | None:
        return _money(_ratio(self.revenue, self.customers))

    @property
    def romi(self) -> Decimal | None:
        if self.spend is None or self.margin is None or not self.spend:
            return None
        earned = self.revenue * self.margin - self.spend
        return (earned / self.spend).quantize(ROMI_STEP, ROUND_HALF_UP)

    @property
    def payback(self) -> Decimal | None:
        """CAC / (average deal x margin), in average deals; computed as the equal spend /
        (revenue x margin), so neither rounded figure skews it."""
        if self.spend is None or self.margin is None or not self.customers or not self.revenue:
            return None
        return (self.spend / (self.revenue * self.margin)).quantize(PAYBACK_STEP, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class EconomicsTable:
    rows: list[SourceEconomics]
    """The costliest source first, then by leads; sources without spend after those with."""
    total: SourceEconomics
    margin: Decimal | None


def economics_table(
    book_sources: Sequence[str],
    results: Mapping[str, SourceResults],
    spend: Mapping[str, Decimal],
    margin: Decimal | None,
) -> EconomicsTable:
    """The table for a period from what the deals brought per source and the (pro rata)
    spend per source. Every source of the book has a row; so has any other source the deals
    or the spend name."""
    others = sorted((set(results) | set(spend)) - set(book_sources))
    ordered = [*book_sources, *others]
    rows = [
        SourceEconomics(
            source_id=source_id,
            leads=results.get(source_id, SourceResults()).leads,
            customers=results.get(source_id, SourceResults()).customers,
            revenue=results.get(source_id, SourceResults()).revenue,
            spend=spend.get(source_id),
            margin=margin,
        )
        for source_id in ordered
    ]
    position = {source_id: index for index, source_id in enumerate(ordered)}
    rows.sort(
        key=lambda row: (
            row.spend is None,
            -(row.spend or 0),
            -row.leads,
            position[row.source_id or ""],
        )
    )
    spent = [row.spend for row in rows if row.spend is not None]
    total = SourceEconomics(
        source_id=None,
        leads=sum(row.leads for row in rows),
        customers=sum(row.customers for row in rows),
        revenue=sum((row.revenue for row in rows), Decimal(0)),
        spend=sum(spent, Decimal(0)) if spent else None,
        margin=margin,
    )
    return EconomicsTable(rows, total, margin)


def _ratio(numerator: Decimal | None, denominator: int) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENTS, ROUND_HALF_UP)
