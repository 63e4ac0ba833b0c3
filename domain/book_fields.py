"""What the sales book and the scripts library have in common: data an admin writes in YAML.

`BookModel` is the strict pydantic base of their models; the field types here (ids, shares,
clock times) are shared by both. A model validator that finds mistakes raises `BookProblems`,
one message per field it names, and `domain.yaml_source.explain_validation_error` turns each
into a line of the file. `show_value` writes a value in error messages the way it looks in YAML.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
ID_PATTERN_HINT = (
    "must be an id: lowercase latin letters, digits and '_', starting with a letter, at most "
    "32 characters"
)
"""What an error message says about a value that does not match `ID_PATTERN`."""

Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
"""Ids are short, lowercase and stable: they are stored in the database and in callback data."""

Share = Annotated[float, Field(ge=0, le=1)]

NonEmptyText = Annotated[str, Field(min_length=1)]

ActivityKindName = Literal["call", "meeting", "note", "proposal", "chat"]
"""The activities a manager logs on a deal (`services.workspace.ActivityKind`), and "chat": a
day's replies from the manager's own Telegram to the client (`services.business`)."""

Loc = tuple[str | int, ...]
"""A field's place in the data: keys and list indexes from the top, as pydantic gives it."""

_CLOCK_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$")


def _clock_time(value: object) -> object:
    # pydantic alone would read an integer as seconds after midnight and accept "09:00+03:00";
    # a sales book means a local wall-clock time, written as text.
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError('must be a local time without a time zone, like "09:00"')
        return value
    if isinstance(value, str):
        match = _CLOCK_TIME.match(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            return dt.time(int(hours), int(minutes), int(seconds or 0))
    raise ValueError(f'must be a time of day like "09:00" (got {show_value(value)})')


ClockTime = Annotated[dt.time, BeforeValidator(_clock_time)]


class BookModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class BookProblems(ValueError):
    """Several problems found at once, each at a location relative to the model that found it.

    pydantic keeps the raised exception in the error context, so the parser can join the
    model's own location with each relative one and point at the exact field and line.
    """

    def __init__(self, problems: Sequence[tuple[Loc, str]]) -> None:
        self.problems = list(problems)
        super().__init__(
            "; ".join(
                f"{_plain_path(loc)}: {message}" if loc else message
                for loc, message in self.problems
            )
        )


def _plain_path(loc: Loc) -> str:
    path = ""
    for element in loc:
        if isinstance(element, int):
            path += f"[{element}]"
        else:
            path += f".{element}" if path else element
    return path


def duplicate_ids(field: str, ids: Sequence[str], what: str = "id") -> list[tuple[Loc, str]]:
    """A problem for each item of the list `field` whose `what` an earlier item already has."""
    first_index: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for index, item_id in enumerate(ids):
        if item_id in first_index:
            problems.append(
                (
                    (field, index, what),
                    f"duplicate {what} {item_id!r}: {field}[{first_index[item_id]}] already "
                    f"uses it, and {what}s must be unique within {field}",
                )
            )
        else:
            first_index[item_id] = index
    return problems


def show_value(value: object) -> str:
    """`value` as an error message quotes it: null, true, 1.5, 'text' (cut at 60 characters)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return type(value).__name__
