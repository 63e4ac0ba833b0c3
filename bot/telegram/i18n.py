"""Texts in Russian and English from gettext catalogues (`bot/locales/<lang>/LC_MESSAGES`).

Message ids are stable keys (`help.lead`), not source sentences, so every text a person sees
lives in a locale file. The `.po` catalogues are compiled at start: there is no build step and
no compiled file in the repository to forget to regenerate.
"""

from __future__ import annotations

import datetime as dt
import html
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from config.settings import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"


def create_i18n(default_locale: str) -> I18n:
    """aiogram's own I18n, loaded from catalogues compiled into a temporary folder (I18n reads
    the compiled files once, at construction)."""
    with tempfile.TemporaryDirectory(prefix="salesbot-locales-") as compiled_dir:
        for locale in SUPPORTED_LOCALES:
            with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po_file:
                catalogue = read_po(po_file, locale=locale)
            target = Path(compiled_dir) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
            target.parent.mkdir(parents=True)
            with target.open("wb") as mo_file:
                write_mo(mo_file, catalogue)
        return I18n(path=compiled_dir, default_locale=default_locale, domain=DOMAIN)


TELEGRAM_TEXT_LIMIT = 4096


def join_within_limit(lines: list[str], more_key: str, limit: int = TELEGRAM_TEXT_LIMIT) -> Html:
    """Join rendered lines into one message; lines that would pass Telegram's limit are
    replaced by a "and N more" line, so a long list never breaks the send."""
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        tail = t(more_key, count=len(lines) - index)
        if size + len(line) + 1 + len(tail) + 1 > limit:
            kept.append(tail)
            break
        kept.append(line)
        size += len(line) + 1
    return Html("\n".join(kept))


def period_days(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> tuple[dt.date, dt.date]:
    """The first and the last local day a period [start, end) touches: one that ends at
    midnight ends the day before."""
    first, until = start.astimezone(zone), end.astimezone(zone)
    last = until.date() - dt.timedelta(days=1) if until.time() == dt.time(0) else until.date()
    return first.date(), max(first.date(), last)


def period_text(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> str:
    """A period [start, end) as people say it: whole days as dates, the last one included
    ("01.03.2026 – 07.03.2026", not "… – 08.03.2026 00:00"; one day alone: "02.03.2026"); a
    bound inside a day with its time ("01.03.2026 – 02.03.2026 10:00": up to now)."""
    first, last = period_days(start, end, zone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.time() == dt.time(0) and local_end.time() == dt.time(0) and first == last:
        return f"{first:%d.%m.%Y}"
    opening = (
        f"{first:%d.%m.%Y}" if local_start.time() == dt.time(0) else f"{local_start:%d.%m.%Y %H:%M}"
    )
    closing = (
        f"{last:%d.%m.%Y}" if local_end.time() == dt.time(0) else f"{local_end:%d.%m.%Y %H:%M}"
    )
    return f"{opening} – {closing}"


def money(amount: Decimal) -> str:
    """An amount of money as people read it in a message: whole units, grouped by thousands
    with spaces ("1 234 567")."""
    return f"{amount:,.0f}".replace(",", " ")


def decimal_text(value: Decimal, places: int) -> str:
    """A number with `places` decimals as the current locale writes it: thousands spaced, its
    decimal mark ("1 234,5" in Russian, "1 234.5" in English)."""
    text = f"{value:,.{places}f}".replace(",", " ")
    return text.replace(".", tp("number.decimal_mark"))


def money_exact(amount: Decimal) -> str:
    """Money with its kopecks where it has them ("1 500 000,50"), else whole ("150 000")."""
    if amount == amount.to_integral_value():
        return money(amount)
    return decimal_text(amount, 2)


def percent(share: Decimal) -> str:
    """A share as people read it: 0.256 is "26 %"."""
    return f"{share * 100:.0f} %"


class Html(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


def t(key: str, /, **values: Any) -> str:
    """The current locale's text for `key`, with `values` HTML-escaped and filled in."""
    template = I18n.get_current(no_error=False).gettext(key)
    if not values:
        return template
    return template.format(**{name: _escaped(value) for name, value in values.items()})


def tp(key: str, /, **values: Any) -> str:
    """Plain text (button labels, alerts): Telegram does not parse HTML there, so nothing is
    escaped."""
    template = I18n.get_current(no_error=False).gettext(key)
    return template.format(**values) if values else template


def locale_now() -> str:
    """The locale of the person being answered."""
    return I18n.get_current(no_error=False).current_locale


def t_in(locale: str, key: str, /, **values: Any) -> str:
    """Like `t`, in a given locale (for messages to someone other than the sender)."""
    i18n = I18n.get_current(no_error=False)
    with i18n.use_locale(locale if locale in i18n.available_locales else i18n.default_locale):
        return t(key, **values)


def _escaped(value: Any) -> Any:
    if isinstance(value, Html):
        return value
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


def pick_locale(language_code: str | None, default: str) -> str:
    if language_code:
        language = language_code.split("-")[0].lower()
        if language in SUPPORTED_LOCALES:
            return language
    return default


class ActorLocaleMiddleware(I18nMiddleware):
    """Speaks the person's Telegram language when we have it, else the default locale."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        actor = data.get("actor")
        language_code = getattr(actor, "language_code", None)
        return pick_locale(language_code, self.i18n.default_locale)
