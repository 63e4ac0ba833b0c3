"""Upserts that SQLAlchemy compiles once.

The dialects' own `insert(...).on_conflict_do_*()` statements carry no cache key, in SQLite's
dialect and PostgreSQL's alike (`inherit_cache = False`), so SQLAlchemy compiles them again on
every execution: a few tenths of a millisecond each time, on the hottest writes the bot makes
(a form's every step, every planned reminder). The same statement as text is cached by its
string. `INSERT ... ON CONFLICT (...) DO UPDATE SET c = excluded.c` is the same SQL in both
databases, and the bound values go through the columns' own types (JSON, DateTime) as the ORM's
would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, bindparam, text
from sqlalchemy.sql.elements import TextClause

from storage.models import Base


def upsert(
    model: type[Base], columns: Sequence[str], conflict: Sequence[str], update: Sequence[str] = ()
) -> TextClause:
    """Insert a row of `columns` (bound by column name); on a conflict over `conflict`, set the
    `update` columns to the new row's values, or do nothing without any."""
    table = cast(Table, model.__table__)
    assignments = ", ".join(f"{_quoted(name)} = excluded.{_quoted(name)}" for name in update)
    on_conflict = f"DO UPDATE SET {assignments}" if update else "DO NOTHING"
    names = ", ".join(_quoted(name) for name in columns)
    values = ", ".join(f":{name}" for name in columns)
    keys = ", ".join(_quoted(name) for name in conflict)
    sql = f"INSERT INTO {_quoted(table.name)} ({names}) VALUES ({values}) "
    sql += f"ON CONFLICT ({keys}) {on_conflict}"
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))


def _quoted(name: str) -> str:
    return f'"{name}"'
