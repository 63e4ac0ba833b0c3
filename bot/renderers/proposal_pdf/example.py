"""The sample proposal: the bundled book's implementation offer for a mid-size client.

python -m bot.renderers.proposal_pdf --example docs/proposal-example.pdf
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from bot.renderers.proposal_pdf.document import ProposalDocument
from bot.renderers.proposal_pdf.render import render_proposal
from bot.renderers.proposal_pdf.texts import LOCALES
from domain.book_loading import parse_sales_book
from domain.proposal import template_for
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook

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
        prog="python -m bot.renderers.proposal_pdf",
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
