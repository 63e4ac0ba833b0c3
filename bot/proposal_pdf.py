"""A commercial proposal as a one-to-two page A4 PDF, sent to the client as a document.

The layout: who offers what to whom, the value arguments grouped by the result they promise,
the economic-effect calculation as a small table, success stories, the price, the manager and a
closing line. Texts from the sales book and from people (names, companies) are printed as they
are; the few texts of the layout itself live in `TEXTS`, in Russian and English (chat messages
use the gettext catalogs, a document has its own handful of labels).

The drawing itself is in `bot.proposal_layout`, imported when the first proposal is rendered:
fpdf2 and matplotlib's font data take a noticeable share of the bot's start-up otherwise.

    python -m bot.proposal_pdf --example docs/proposal-example.pdf
"""

from __future__ import annotations

import argparse
import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Final, Literal

from domain.proposal import EconomicEffect, economic_effect, template_for
from domain.sales_book import (
    DEFAULT_SALES_BOOK_PATH,
    ProposalTemplate,
    SalesBook,
    ValueResult,
    parse_sales_book,
)

Locale = Literal["ru", "en"]
LOCALES: tuple[Locale, ...] = ("ru", "en")

GROUP_SEPARATOR = "\u202f"
"""Narrow no-break space between thousands: "1 234 567" neither wraps nor reads as a decimal."""
NO_BREAK_SPACE = "\u00a0"
MINUS = "\u2212"
RUBLE_SIGN = "\u20bd"

RESULT_ORDER: tuple[ValueResult, ...] = ("cost_saved", "time_saved", "revenue_gained")
"""Arguments are grouped in the order the methodology names them: lower costs, faster work,
more revenue."""

TEXTS: Final[Mapping[Locale, Mapping[str, str]]] = {
    "ru": {
        "title": "Коммерческое предложение № {number}",
        "for": "Для",
        "date": "Дата",
        "arguments": "Что вы получите",
        "cost_saved": "Снижение затрат",
        "time_saved": "Экономия времени",
        "revenue_gained": "Рост выручки",
        "calculation": "Расчёт экономического эффекта",
        "calculation_intro": (
            "Расчёт по вашим данным: сколько времени команда тратит на ручную работу "
            "и сколько из него вернёт решение."
        ),
        "team_size": "Сотрудников, занятых ручной работой",
        "hours_lost_weekly": "Часов ручной работы в неделю на сотрудника",
        "hourly_cost": "Стоимость часа работы сотрудника",
        "recovered_share": "Доля времени, которую возвращает решение",
        "weeks_per_year": "Рабочих недель в году",
        "hours_saved_yearly": "Часов сэкономлено за год",
        "annual_saving": "Экономия за год",
        "monthly_saving": "Экономия в месяц",
        "payback_months": "Срок окупаемости",
        "first_year_net": "Чистый эффект за первый год",
        "formula": (
            "Часы за год = сотрудники × часы в неделю × недели в году × доля возвращённого "
            "времени. Экономия за год = часы за год × стоимость часа. Окупаемость = стоимость "
            "решения / экономия в месяц. Чистый эффект = экономия за год − стоимость решения."
        ),
        "stories": "Результаты наших клиентов",
        "price": "Стоимость",
        "manager": "Ваш менеджер",
        "closing": (
            "Расчёт сделан по вашим цифрам: если они изменятся, пересчитаем предложение. "
            "Будем рады ответить на вопросы и обсудить следующий шаг."
        ),
        "people": "{value} чел.",
        "hours": "{value} ч",
        "months": "{value} мес.",
        "weeks": "{value} нед.",
        "percent": "{value} %",
        "no_payback": "не окупается при этих данных",
        "page": "стр. {page} из {pages}",
        "decimal_mark": ",",
        "ruble_fallback": "руб.",
        "months_genitive": (
            "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
        ),
        "date_format": "{day} {month} {year} г.",
    },
    "en": {
        "title": "Commercial proposal No. {number}",
        "for": "For",
        "date": "Date",
        "arguments": "What you get",
        "cost_saved": "Lower costs",
        "time_saved": "Time saved",
        "revenue_gained": "More revenue",
        "calculation": "Economic effect",
        "calculation_intro": (
            "Calculated from your figures: how much time the team spends on manual work "
            "and how much of it the solution gives back."
        ),
        "team_size": "People doing manual work",
        "hours_lost_weekly": "Hours of manual work per person a week",
        "hourly_cost": "Cost of one working hour",
        "recovered_share": "Share of that time the solution gives back",
        "weeks_per_year": "Working weeks a year",
        "hours_saved_yearly": "Hours saved a year",
        "annual_saving": "Saving a year",
        "monthly_saving": "Saving a month",
        "payback_months": "Payback period",
        "first_year_net": "Net effect in the first year",
        "formula": (
            "Hours a year = people × hours a week × weeks a year × share given back. "
            "Saving a year = hours a year × cost of an hour. Payback = price / saving a month. "
            "Net effect = saving a year − price."
        ),
        "stories": "Our clients' results",
        "price": "Price",
        "manager": "Your manager",
        "closing": (
            "The calculation uses your figures: if they change, we will recalculate the "
            "proposal. We will be glad to answer your questions and agree on the next step."
        ),
        "people": "{value}",
        "hours": "{value} h",
        "months": "{value} months",
        "weeks": "{value}",
        "percent": "{value}%",
        "no_payback": "no payback with these figures",
        "page": "page {page} of {pages}",
        "decimal_mark": ".",
        "ruble_fallback": "RUB",
        "months_genitive": (
            "January February March April May June July August September October November December"
        ),
        "date_format": "{day} {month} {year}",
    },
}


@dataclass(frozen=True)
class ProposalDocument:
    """Everything one proposal shows. `effect` carries the manager's inputs with the results,
    so the table can never show figures the results were not computed from."""

    company: str
    """The seller, from the sales book."""
    template: ProposalTemplate
    client_name: str
    client_company: str | None
    deal_number: int
    manager_name: str
    date: dt.date
    effect: EconomicEffect
    currency: str
    """The book's currency code, e.g. RUB."""

    @classmethod
    def for_deal(
        cls,
        book: SalesBook,
        template: ProposalTemplate,
        inputs: Mapping[str, Decimal],
        *,
        client_name: str,
        client_company: str | None,
        deal_number: int,
        manager_name: str,
        date: dt.date,
    ) -> ProposalDocument:
        """A proposal from the book's template and the manager's inputs; raises
        ProposalInputsMissing when an input is absent or outside the template's bounds."""
        return cls(
            company=book.company,
            template=template,
            client_name=client_name,
            client_company=client_company,
            deal_number=deal_number,
            manager_name=manager_name,
            date=date,
            effect=economic_effect(template, inputs),
            currency=book.currency,
        )

    @property
    def inputs(self) -> dict[str, Decimal]:
        """The manager's figures, keyed by input id in asking order."""
        return self.effect.inputs


def render_proposal(document: ProposalDocument, locale: str = "ru") -> bytes:
    """The proposal as PDF bytes, with the layout's texts in `locale` ("ru" or "en").

    The same document and locale always give the same bytes: the PDF's creation date is the
    document's date. Takes a few tenths of a second: call it off the event loop.
    """
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; use one of {', '.join(LOCALES)}")
    from bot.proposal_layout import lay_out  # fpdf2 is loaded with the first proposal

    return lay_out(document, "en" if locale == "en" else "ru")


# --- formatting --------------------------------------------------------------------------------


def format_number(value: Decimal, texts: Mapping[str, str], places: int | None = None) -> str:
    """`value` with thin-space thousands and the locale's decimal mark; `places` fixes the
    decimals (rounded half up), None keeps the value's own ("2.5" stays "2,5", "12" stays "12")."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = MINUS if value < 0 else ""
    whole, _, fraction = f"{abs(value):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    number = GROUP_SEPARATOR.join(groups)
    return f"{sign}{number}{texts['decimal_mark']}{fraction}" if fraction else f"{sign}{number}"


def format_money(
    amount: Decimal, currency: str, texts: Mapping[str, str], ruble_sign: bool = True
) -> str:
    """ "1 234 567 ₽" for roubles (or "руб." when the font has no ₽), "1 234 567 USD" for other
    currencies; kopecks only when the amount has them."""
    places = 0 if amount == amount.to_integral_value() else 2
    number = format_number(amount, texts, places)
    if currency == "RUB":
        symbol = RUBLE_SIGN if ruble_sign else texts["ruble_fallback"]
    else:
        symbol = currency
    return f"{number}{NO_BREAK_SPACE}{symbol}"


def format_date(date: dt.date, texts: Mapping[str, str]) -> str:
    """ "23 ноября 2026 г." or "23 November 2026"."""
    month = texts["months_genitive"].split()[date.month - 1]
    return texts["date_format"].format(day=date.day, month=month, year=date.year)


def printable(text: str) -> str:
    """A person's text, kept literally except what a page cannot show: control characters
    (line breaks, tabs) become spaces and unpaired surrogates the replacement character."""
    shown = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            shown.append(" ")
        elif category == "Cs":
            shown.append("\ufffd")
        else:
            shown.append(char)
    return "".join(shown).strip()


# --- the example -------------------------------------------------------------------------------

EXAMPLE_DATE = dt.date(2026, 11, 23)
EXAMPLE_INPUTS: Mapping[str, Decimal] = {
    "team_size": Decimal(25),
    "hours_lost_weekly": Decimal(6),
    "hourly_cost": Decimal(900),
}


def example_document(book: SalesBook) -> ProposalDocument:
    """A sample proposal of the book's implementation offer for a mid-size client."""
    template = template_for(book, "implementation", "mid") or book.proposals[0]
    return ProposalDocument.for_deal(
        book,
        template,
        EXAMPLE_INPUTS,
        client_name="Ирина Соколова",
        client_company="ООО «Северная логистика»",
        deal_number=1024,
        manager_name="Алексей Морозов",
        date=EXAMPLE_DATE,
    )


def main(argv: list[str] | None = None) -> None:
    """Write an example proposal from the bundled sales book."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.proposal_pdf",
        description="Render an example commercial proposal from the bundled sales book.",
    )
    parser.add_argument("--example", type=Path, required=True, help="where to write the PDF")
    parser.add_argument("--locale", choices=LOCALES, default="ru")
    args = parser.parse_args(argv)
    book_text = DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8")
    book = parse_sales_book(book_text, str(DEFAULT_SALES_BOOK_PATH))
    path: Path = args.example
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_proposal(example_document(book), args.locale))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
