"""A deal's amount: what a manager may type for it and what it may be."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

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


def parse_amount(text: str) -> Decimal:
    """An amount as a manager types it on a phone: "150000", "150 000", "1 500 000,50",
    "99.9". Spaces of any kind group thousands; "," or "." separates at most two decimals.

    "1,500" is refused rather than guessed: it is 1.5 to a Russian reader and 1500 to an English
    one, and a wrong guess would be a wrong revenue figure.
    """
    compact = "".join(text.split())
    match = _AMOUNT_PATTERN.fullmatch(compact)
    if match is None:
        raise InvalidAmount("not_a_number")
    whole, cents = match.groups()
    try:
        amount = Decimal(f"{whole}.{cents}" if cents else whole)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise InvalidAmount("not_a_number") from None
    return validate_amount(amount)
