"""The shipped sales book's text, and ways to aim an edit at one of its lines."""

from __future__ import annotations

import pytest

from domain.book_loading import SalesBookError, parse_sales_book
from domain.sales_book import DEFAULT_SALES_BOOK_PATH

DEFAULT_TEXT = DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8")
SOURCE = "sales_books/my.yaml"
IMPL = "- id: implementation_mid"
SUBS = "- id: subscription_small"
PROPOSALS = "\nproposals:\n"


def line_of(needle: str, after: str = "", text: str = DEFAULT_TEXT) -> int:
    """1-based line of the first `needle` at or after the first `after`."""
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(needle, start)) + 1


def edit(old: str, new: str, after: str = "", text: str = DEFAULT_TEXT) -> str:
    """Replace the first `old` at or after the first `after` (so repeated lines can be aimed)."""
    start = text.index(after) if after else 0
    position = text.index(old, start)
    return text[:position] + new + text[position + len(old) :]


def parse_error(text: str) -> SalesBookError:
    with pytest.raises(SalesBookError) as caught:
        parse_sales_book(text, SOURCE)
    return caught.value
