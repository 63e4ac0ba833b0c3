"""The unit economics rules without a database: the ratios where a denominator is zero, the
rounding, the order of the table, and reading spend as people type it or upload it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.telegram.callbacks import DigestDrill, DrillKind, ReportSources, SpendPick
from domain.kpi import Period, month_shares, plan_for
from domain.roles import Action, Role, can
from domain.sales_book import LeadSource
from domain.unit_economics import (
    MAX_MONTHLY_SPEND,
    MAX_SPEND_ROWS,
    InvalidMonth,
    InvalidSpend,
    RowProblem,
    SourceEconomics,
    SourceResults,
    SpendEntry,
    SpendTableEmpty,
    SpendTableInvalid,
    SpendTableTooLong,
    economics_table,
    parse_month,
    parse_spend,
    parse_spend_table,
    this_and_last_month,
)

MARGIN = Decimal("0.35")
SOURCES = [
    LeadSource(id="ads_vk", name="Реклама во ВКонтакте"),
    LeadSource(id="site", name="Сайт компании"),
]


def row(
    leads: int = 0,
    customers: int = 0,
    revenue: int | str = 0,
    spend: int | str | None = None,
    margin: Decimal | None = MARGIN,
) -> SourceEconomics:
    return SourceEconomics(
        source_id="x",
        leads=leads,
        customers=customers,
        revenue=Decimal(revenue),
        spend=None if spend is None else Decimal(spend),
        margin=margin,
    )


def test_every_ratio_is_none_where_its_denominator_is_zero() -> None:
    nothing = row(spend=10_000)  # spent, but no leads and no customers yet
    assert (nothing.cost_per_lead, nothing.cac, nothing.average_deal) == (None, None, None)
    assert nothing.romi == Decimal("-1.0000")  # all of it lost so far
    assert nothing.payback is None
    unpriced = row(leads=3, customers=1, revenue=0, spend=900)  # a won deal without revenue
    assert unpriced.payback is None
    free = row(leads=4, customers=2, revenue=100_000, spend=0)
    assert (free.cost_per_lead, free.cac, free.romi, free.payback) == (
        Decimal("0.00"),
        Decimal("0.00"),
        None,
        Decimal("0.00"),
    )
    unknown = row(leads=4, customers=2, revenue=100_000)  # no spend entered
    assert (unknown.cost_per_lead, unknown.cac, unknown.romi, unknown.payback) == (
        None,
        None,
        None,
        None,
    )
    no_margin = row(leads=4, customers=2, revenue=100_000, spend=1_000, margin=None)
    assert (no_margin.cac, no_margin.romi, no_margin.payback) == (Decimal("500.00"), None, None)


def test_rounding_is_half_up_to_cents_romi_to_a_hundredth_of_a_percent_payback_to_cents() -> None:
    # 100 / 3 = 33.333... -> 33.33; 200 / 3 = 66.666... -> 66.67
    third = row(leads=3, customers=3, revenue=1000, spend=100)
    assert (third.cost_per_lead, row(leads=3, spend=200).cost_per_lead) == (
        Decimal("33.33"),
        Decimal("66.67"),
    )
    # 0.125 -> 0.13 (half up, where the banker's rounding would give 0.12)
    assert row(leads=8, spend=1).cost_per_lead == Decimal("0.13")
    # ROMI (1000 x 0.35 - 100) / 100 = 2.5; payback 100 / 350 = 0.2857 -> 0.29
    assert (third.romi, third.payback) == (Decimal("2.5000"), Decimal("0.29"))
    # ROMI (10 x 0.35 - 3) / 3 = 0.5 / 3 = 0.16666 -> 0.1667
    assert row(customers=1, revenue=10, spend=3).romi == Decimal("0.1667")
    # payback = CAC / (average deal x margin): CAC 300 / 2 = 150, average 1,000 / 2 = 500,
    # 150 / (500 x 0.35) = 0.857 -> 0.86, the same as 300 / (1,000 x 0.35)
    assert row(customers=2, revenue=1000, spend=300).payback == Decimal("0.86")


def test_the_table_shows_every_source_the_costliest_first_and_totals_all() -> None:
    table = economics_table(
        ["ads_vk", "site", "referral", "partner"],
        {
            "ads_vk": SourceResults(10, 1, Decimal(100_000)),
            "site": SourceResults(4, 2, Decimal(50_000)),
            "partner": SourceResults(6, 0, Decimal(0)),
            "unknown": SourceResults(2, 1, Decimal(10_000)),
        },
        {"ads_vk": Decimal(20_000), "site": Decimal(30_000)},
        MARGIN,
    )
    assert [r.source_id for r in table.rows] == ["site", "ads_vk", "partner", "unknown", "referral"]
    referral = table.rows[-1]
    assert (referral.leads, referral.spend, referral.cost_per_lead) == (0, None, None)
    total = table.total
    # 22 leads, 4 customers, 160,000 revenue, 50,000 spent: CPL 2,272.73, CAC 12,500,
    # ROMI (56,000 - 50,000) / 50,000 = 0.12, payback 50,000 / 56,000 = 0.89
    assert (total.leads, total.customers, total.revenue, total.spend) == (
        22,
        4,
        Decimal(160_000),
        Decimal(50_000),
    )
    assert (total.cost_per_lead, total.cac, total.romi, total.payback) == (
        Decimal("2272.73"),
        Decimal("12500.00"),
        Decimal("0.1200"),
        Decimal("0.89"),
    )
    without_spend = economics_table(["ads_vk"], {}, {}, MARGIN)
    assert without_spend.total.spend is None and without_spend.rows[0].leads == 0


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("150000", Decimal("150000.00")),
        ("150 000", Decimal("150000.00")),
        ("1\u00a0500\u00a0000,50", Decimal("1500000.50")),
        ("99.9", Decimal("99.90")),
        ("0", Decimal("0.00")),
        ("1 000 000 000", MAX_MONTHLY_SPEND),
        ("150000р", Decimal("150000.00")),  # read as a deal's amount is
        ("1,2 млн", Decimal("1200000.00")),
    ],
)
def test_spend_as_people_type_it(typed: str, amount: Decimal) -> None:
    assert parse_spend(typed) == amount


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "not_a_number"),
        ("сто тысяч", "not_a_number"),
        ("150000$", "not_a_number"),
        ("-5", "negative"),
        ("−150 000", "negative"),
        ("1,500", "too_many_decimals"),
        ("10.005", "too_many_decimals"),
        ("1 000 000 000,01", "too_large"),
        ("79161234567", "too_large"),
    ],
)
def test_spend_that_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(InvalidSpend) as raised:
        parse_spend(typed)
    assert raised.value.reason == reason


def test_months_as_written() -> None:
    assert parse_month("2026-03") == dt.date(2026, 3, 1)
    assert parse_month(" 03.2026 ") == dt.date(2026, 3, 1)
    assert parse_month("3.2026") == dt.date(2026, 3, 1)
    for wrong in ("2026-13", "13.2026", "26-03", "март 2026", "2026-03-15", "1999-12", ""):
        with pytest.raises(InvalidMonth):
            parse_month(wrong)
    assert this_and_last_month(dt.date(2026, 1, 15)) == (dt.date(2026, 1, 1), dt.date(2025, 12, 1))


def test_an_upload_is_read_whole_or_refused_with_every_bad_row() -> None:
    rows = [
        ["Источник", "Месяц", "Сумма"],
        ["ads_vk", "2026-03", "150 000"],
        ["", "", ""],
        ["сайт компании", "02.2026", "0", ""],  # the name in any case; a trailing blank cell
    ]
    assert parse_spend_table(rows, SOURCES) == [
        SpendEntry("ads_vk", dt.date(2026, 3, 1), Decimal("150000.00")),
        SpendEntry("site", dt.date(2026, 2, 1), Decimal("0.00")),
    ]
    broken = [
        ["ads_vk", "2026-03", "1"],
        ["ads_vk", "2026-04"],
        ["tiktok", "март", "много"],
        ["site", "2026-03", "2000000000"],
        ["ads_vk", "03.2026", "2"],
    ]
    with pytest.raises(SpendTableInvalid) as raised:
        parse_spend_table(broken, SOURCES)
    assert raised.value.problems == [
        RowProblem(2, "columns", "2"),
        RowProblem(3, "unknown_source", "tiktok"),
        RowProblem(3, "bad_month", "март"),
        RowProblem(3, "not_a_number", "много"),
        RowProblem(4, "too_large", "2000000000"),
        RowProblem(5, "duplicate", "1"),
    ]
    with pytest.raises(SpendTableEmpty):
        parse_spend_table([["source", "month", "amount"], [" ", ""]], SOURCES)
    with pytest.raises(SpendTableTooLong):
        parse_spend_table([["ads_vk", "2026-01", "1"]] * (MAX_SPEND_ROWS + 1), SOURCES)


def test_a_period_counts_each_month_pro_rata_as_the_plan_does() -> None:
    zone = ZoneInfo("Europe/Moscow")
    period = Period(dt.datetime(2026, 4, 16, tzinfo=zone), dt.datetime(2026, 5, 16, tzinfo=zone))
    shares = month_shares(period, zone)
    assert list(shares) == [dt.date(2026, 4, 1), dt.date(2026, 5, 1)]
    assert shares[dt.date(2026, 4, 1)] == Decimal("0.5")
    assert (Decimal(62_000) * shares[dt.date(2026, 5, 1)]).quantize(Decimal("0.01")) == Decimal(
        "30000.00"
    )
    assert plan_for(period, Decimal(62_000), zone) == Decimal("31000.00") + Decimal("30000.00")


def test_only_supervisors_and_admins_enter_spend() -> None:
    assert [role for role in Role if can(role, Action.ENTER_MARKETING_SPEND)] == [
        Role.SUPERVISOR,
        Role.ADMIN,
    ]


def test_the_new_buttons_fit_telegrams_64_bytes() -> None:
    for packed in (
        SpendPick(source=999, month=209912).pack(),
        SpendPick().pack(),
        ReportSources(start=2**40, end=2**40).pack(),
        DigestDrill(kind=DrillKind.SOURCES).pack(),
    ):
        assert len(packed.encode()) <= 64, packed
