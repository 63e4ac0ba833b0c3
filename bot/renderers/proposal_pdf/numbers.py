"""Figures, money, dates and people's texts as the proposal prints them."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

GROUP_SEPARATOR = "\u202f"

"""Narrow no-break space between thousands: "1 234 567" neither wraps nor reads as a decimal."""
NO_BREAK_SPACE = "\u00a0"


MINUS = "\u2212"


RUBLE_SIGN = "\u20bd"


def format_number(value: Decimal, texts: Mapping[str, str], places: int | None = None) -> str:
    """`value` with thin-space thousands and the locale's decimal mark; `places` fixes the
    decimals (rounded half up), None keeps the value's own ("2.5" stays "2,5", "12" stays "12")."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = MINUS if value < 0 else ""
    whole, _, fraction = f"{abs(value):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    number = GROUP_SEPARATOR.join(groups)
    return f"{sign}{number}{texts['decimal_mark']}{fraction}" if fraction else f"{sign}{number}"


def format_money(
    amount: Decimal, currency: str, texts: Mapping[str, str], ruble_sign: bool = True
) -> str:
    """ "1 234 567 ₽" for roubles (or "руб." when the font has no ₽), "1 234 567 USD" for other
    currencies; kopecks only when the amount has them."""
    places = 0 if amount == amount.to_integral_value() else 2
    number = format_number(amount, texts, places)
    if currency == "RUB":
        symbol = RUBLE_SIGN if ruble_sign else texts["ruble_fallback"]
    else:
        symbol = currency
    return f"{number}{NO_BREAK_SPACE}{symbol}"


def format_date(date: dt.date, texts: Mapping[str, str]) -> str:
    """ "23 ноября 2026 г." or "23 November 2026"."""
    month = texts["months_genitive"].split()[date.month - 1]
    return texts["date_format"].format(day=date.day, month=month, year=date.year)


def printable(text: str) -> str:
    """A person's text, kept literally except what a page cannot show: control characters
    (line breaks, tabs) become spaces and unpaired surrogates the replacement character."""
    shown = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            shown.append(" ")
        elif category == "Cs":
            shown.append("\ufffd")
        else:
            shown.append(char)
    return "".join(shown).strip()


def percent_places(share: Decimal) -> int:
    """Decimals a share needs as a percentage: 0.4 is 40 %, 0.125 is 12.5 %."""
    exponent = (share * 100).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
