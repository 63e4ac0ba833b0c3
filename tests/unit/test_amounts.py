"""A deal's amount as a manager types it, and what it may be (domain/amounts.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.amounts import MAX_DEAL_AMOUNT, parse_amount, validate_amount
from domain.errors import InvalidAmount


def test_amounts_up_to_the_limit_are_accepted() -> None:
    assert validate_amount(MAX_DEAL_AMOUNT) == MAX_DEAL_AMOUNT
    assert validate_amount(Decimal("0.01")) == Decimal("0.01")
    assert validate_amount(Decimal("10.500")) == Decimal("10.50")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("150000", Decimal("150000")),
        ("150 000", Decimal("150000")),
        ("1\u00a0500\u202f000,50", Decimal("1500000.50")),
        (" 99.9 ", Decimal("99.90")),
        # A scale and the ruble, as typed on a phone.
        ("150к", Decimal("150000")),
        ("150 тыс.", Decimal("150000")),
        ("1,5 млн", Decimal("1500000")),
        ("1.25 млн", Decimal("1250000")),
        ("2 млн ₽", Decimal("2000000")),
        ("150 000 руб.", Decimal("150000")),
        ("150 000 рублей", Decimal("150000")),
        ("1 млрд", Decimal("1000000000")),
        ("150k", Decimal("150000")),
    ],
)
def test_parse_amount_reads_what_managers_type(text: str, amount: Decimal) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1,500", "1.2.3", "-5", "1e5", "١٢٣", "млн", "1,5 млн руб долларов", "$100", "0 к"],
)
def test_parse_amount_refuses_what_it_cannot_read_for_sure(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(text)
