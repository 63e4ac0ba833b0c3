"""A commercial proposal as a one-to-two page A4 PDF, sent to the client as a document.

The layout: who offers what to whom, the value arguments grouped by the result they promise,
the economic-effect calculation as a small table, success stories, the price, the manager and a
closing line. Texts from the sales book and from people (names, companies) are printed as they
are; the few texts of the layout itself live in `TEXTS`, in Russian and English (chat messages
use the gettext catalogs, a document has its own handful of labels).

Fonts are DejaVu Sans from matplotlib's own data, so Cyrillic renders on a fresh machine with
no system fonts; characters DejaVu lacks (CJK, most emoji) fall back to matplotlib's Last Resort
font, which draws a visible placeholder instead of dropping them silently.

    python -m bot.renderers.proposal_pdf --example docs/proposal-example.pdf

The parts: `document` (what one proposal shows), `texts` (the layout's own labels),
`numbers` (figures, money and dates as printed), `fonts` (which characters need the fallback),
`layout` (the page and its building blocks), `sections` (the proposal's sections in order),
`render` (fitting two pages, the bytes), `example` (the sample proposal and the command).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.renderers.proposal_pdf.document import ProposalDocument
from bot.renderers.proposal_pdf.numbers import format_date, format_money, format_number, printable
from bot.renderers.proposal_pdf.texts import LOCALES, TEXTS, Locale

if TYPE_CHECKING:
    from domain.sales_book import SalesBook


def render_proposal(document: ProposalDocument, locale: str = "ru") -> bytes:
    """The PDF's bytes. fpdf2 and the fonts are loaded with the first proposal drawn, not when
    the bot starts."""
    from bot.renderers.proposal_pdf.render import render_proposal as render

    return render(document, locale)


def example_document(book: SalesBook) -> ProposalDocument:
    from bot.renderers.proposal_pdf.example import example_document as example

    return example(book)


def main(argv: list[str] | None = None) -> None:
    from bot.renderers.proposal_pdf.example import main as run

    run(argv)


__all__ = [
    "LOCALES",
    "TEXTS",
    "Locale",
    "ProposalDocument",
    "example_document",
    "format_date",
    "format_money",
    "format_number",
    "main",
    "printable",
    "render_proposal",
]
