"""The fakes hand out copies, as a database hands out fresh objects: a use case's change to what
it read is stored only when it saves it."""

from __future__ import annotations

import copy
from typing import TypeVar

T = TypeVar("T")


def copied(item: T) -> T:
    return copy.deepcopy(item)


def existing(items: dict[int, T], key: int | None) -> T:
    """What is stored under `key`: `save` is for stored things only, as in the database."""
    if key is None or key not in items:
        raise LookupError(key)
    return items[key]
