"""A small valid script file, and objections by id, for the scripts library's tests."""

from __future__ import annotations

from domain.scripts import Objection

GOOD_FILE = """\
objections:
  - id: extra
    title: Нужен тендер
    keywords: [тендер, закупка, госзакупки]
    variants:
      - id: a
        style: snap
        text: Понимаю. Когда объявляете закупку?
"""


def ids(objections: list[Objection]) -> list[str]:
    return [objection.id for objection in objections]
