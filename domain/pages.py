"""A long list shown a page at a time: which items a page holds, the same rule for every list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

Item = TypeVar("Item")


def page_of(items: Sequence[Item], page: int, size: int) -> tuple[Sequence[Item], int, int]:
    """The items of `page` (one past the end shows the last), the page shown and the pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages
