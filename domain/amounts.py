"""A deal's amount: what a manager may type for it and what it may be."""

from __future__ import annotations

import re
from decimal import Decimal

from domain.errors import InvalidAmount

MAX_DEAL_AMOUNT = Decimal("999999999999.99")
"""Just under a trillion: far above any real deal of a small company, so anything larger is a
typo (an extra zero or a phone number pasted into the amount), and well inside NUMERIC(16, 2)."""

_CENTS = Decimal("0.01")


def validate_amount(amount: Decimal) -> Decimal:
    """A deal's amount (expected or won), normalised to cents; raises InvalidAmount."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAmount("not_a_number")
    if amount <= 0:
        raise InvalidAmount("not_positive")
    if amount > MAX_DEAL_AMOUNT:
        raise InvalidAmount("too_large", limit=str(MAX_DEAL_AMOUNT))
    cents = amount.quantize(_CENTS)
    if cents != amount:
        raise InvalidAmount("too_many_decimals")
    return cents


_AMOUNT_PATTERN = re.compile(r"([0-9]+)(?:[.,]([0-9]{1,2}))?")
_SCALES = {
    **dict.fromkeys(("к", "k", "тыс", "тысяча", "тысячи", "тысяч"), 1_000),
    **dict.fromkeys(("млн", "миллион", "миллиона", "миллионов", "m", "mln"), 1_000_000),
    **dict.fromkeys(("млрд", "миллиард", "миллиарда", "миллиардов", "bn"), 1_000_000_000),
}
_SCALED_PATTERN = re.compile(
    r"([0-9]+)(?:[.,]([0-9]{1,3}))?(" + "|".join(sorted(_SCALES, key=len, reverse=True)) + r")\.?"
)
_RUBLES = re.compile(r"(?:₽|руб(?:лей|ля|ль)?\.?|р\.?|rub|rur)$")
"""The currency after the figure, as typed; amounts are in the book's currency anyway."""


def parse_amount(text: str) -> Decimal:
    """A deal's amount as a manager types it on a phone (`read_money`); raises InvalidAmount."""
    amount = read_money(text)
    if amount is None:
        raise InvalidAmount("not_a_number")
    return validate_amount(amount)


def read_money(text: str) -> Decimal | None:
    """A sum of money as people type it on a phone: "150000", "150 000", "1 500 000,50",
    "99.9", and with a scale or the ruble: "150к", "150 тыс", "1,5 млн", "2 млн ₽",
    "150 000 руб". Spaces of any kind group thousands; "," or "." separates at most two
    decimals (three before a scale: "1,25 млн"). None when it is not such a sum: the caller
    says why (and checks the bounds).

    "1,500" is refused rather than guessed: it is 1.5 to a Russian reader and 1500 to an English
    one, and a wrong guess would be a wrong revenue figure.
    """
    compact = _RUBLES.sub("", "".join(text.split()).lower())
    if match := _AMOUNT_PATTERN.fullmatch(compact):
        whole, cents = match.groups()
        return Decimal(f"{whole}.{cents}" if cents else whole)
    if match := _SCALED_PATTERN.fullmatch(compact):
        whole, fraction, scale = match.groups()
        return Decimal(f"{whole}.{fraction}" if fraction else whole) * _SCALES[scale]
    return None
