"""Every text the bot shows exists in both locales, with the same placeholders, and every key
the code asks for is there."""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.telegram.i18n import (
    LOCALES_DIR,
    create_i18n,
    decimal_text,
    join_within_limit,
    money_exact,
    period_text,
    t,
    tp,
)
from bot.telegram.menus import COMMANDS_BY_ROLE
from config.settings import SUPPORTED_LOCALES
from domain.roles import Role

PROJECT = Path(__file__).resolve().parents[2]
KEY_IN_CODE = re.compile(r"""\b(?:t|tp|t_in\([^,]+,)\(\s*f?["']([a-z_]+\.[a-z_.{}]+)["']""")


def catalogue(locale: str) -> dict[str, str]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return {str(m.id): str(m.string) for m in read_po(po_file) if m.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_locales_have_the_same_keys_and_placeholders() -> None:
    russian, english = catalogue("ru"), catalogue("en")
    assert russian.keys() == english.keys()
    for key in russian:
        assert russian[key], f"ru: {key} is empty"
        assert english[key], f"en: {key} is empty"
        assert placeholders(russian[key]) == placeholders(english[key]), key


def test_every_key_used_in_code_is_translated() -> None:
    keys = set(catalogue("ru"))
    used: set[str] = set()
    for path in [*PROJECT.glob("bot/**/*.py"), PROJECT / "run_bot.py"]:
        used.update(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no keys: it is broken"
    for key in used:
        if "{" in key:  # an f-string key such as role.{role.value}: check its known values
            prefix = key.split("{")[0]
            assert any(k.startswith(prefix) for k in keys), key
        else:
            assert key in keys, key
    for role in Role:
        assert f"role.{role.value}" in keys
        for command in COMMANDS_BY_ROLE[role]:
            assert f"command.{command}" in keys


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_values_are_escaped_but_plain_texts_are_not(locale: str) -> None:
    with create_i18n(locale).context() as i18n, i18n.use_locale(locale):
        assert "&lt;b&gt;Bob &amp; Co" in t("team.member", name="<b>Bob & Co", role="x")
        assert "<b>Bob & Co" in tp("button.deactivate", name="<b>Bob & Co")


def test_long_lists_are_cut_to_fit_one_message() -> None:
    with create_i18n("ru").context():
        text = join_within_limit([f"строка номер {n}" for n in range(1000)], "list.more")
    lines = text.splitlines()
    assert len(text) <= 4096
    assert lines[0] == "строка номер 0"
    shown = len(lines) - 1
    assert lines[-1] == f"… и ещё {1000 - shown}"


@pytest.mark.parametrize(
    ("locale", "exact", "whole", "days"),
    [("ru", "1 500 000,50", "150 000", "2,5"), ("en", "1 500 000.50", "150 000", "2.5")],
)
def test_numbers_take_the_locales_decimal_mark(
    locale: str, exact: str, whole: str, days: str
) -> None:
    with create_i18n(locale).context() as i18n, i18n.use_locale(locale):
        assert money_exact(Decimal("1500000.50")) == exact
        assert money_exact(Decimal("150000.00")) == whole
        assert decimal_text(Decimal("2.54"), 1) == days


MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        ((1, 3, 0), (8, 3, 0), "01.03.2026 – 07.03.2026"),  # whole days: the last one included
        ((2, 3, 0), (3, 3, 0), "02.03.2026"),  # one day
        ((1, 3, 0), (2, 3, 10), "01.03.2026 – 02.03.2026 10:00"),  # up to now
        ((2, 3, 9), (2, 3, 18), "02.03.2026 09:00 – 02.03.2026 18:00"),
    ],
)
def test_a_period_is_shown_as_people_say_it(
    start: tuple[int, int, int], end: tuple[int, int, int], shown: str
) -> None:
    def moscow(day: int, month: int, hour: int) -> dt.datetime:
        return dt.datetime(2026, month, day, hour, tzinfo=MOSCOW)

    assert period_text(moscow(*start), moscow(*end), MOSCOW) == shown
