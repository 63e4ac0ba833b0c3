"""The proposal PDF: read back with pypdf, it must say the hand-computed figures, the client's
words as typed, and fit two A4 pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.renderers.proposal_pdf import (
    TEXTS,
    ProposalDocument,
    example_document,
    format_money,
    main,
    render_proposal,
)
from domain.book_loading import parse_sales_book
from domain.book_proposals import (
    PROPOSAL_ARGUMENT_LIMIT,
    PROPOSAL_PRICE_NOTE_LIMIT,
    PROPOSAL_STORY_CLIENT_LIMIT,
    PROPOSAL_STORY_RESULT_LIMIT,
    PROPOSAL_TITLE_LIMIT,
    SuccessStory,
    ValueArgument,
)
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook

DATE = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))


def proposal(book: SalesBook, **changes: object) -> ProposalDocument:
    """The bundled implementation offer for a team of 25 losing 6 hours a week each at 900 ₽ an
    hour: 2880 hours, 2 592 000 ₽ a year, 216 000 ₽ a month, payback 5.6 months, first-year
    net 1 392 000 ₽ (worked out in tests/unit/test_proposal.py)."""
    document = ProposalDocument.for_deal(
        book,
        book.proposal("implementation_mid"),
        {
            "team_size": Decimal(25),
            "hours_lost_weekly": Decimal(6),
            "hourly_cost": Decimal(900),
        },
        client_name="Ирина Соколова",
        client_company="ООО «Северная логистика»",
        deal_number=1024,
        manager_name="Алексей Морозов",
        date=DATE,
    )
    return dataclasses.replace(document, **changes)  # type: ignore[arg-type]


def read(data: bytes) -> tuple[int, str]:
    """Page count and the text of all pages, with every kind of space as a plain one."""
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for space in ("\u00a0", "\u202f", "\u2009"):
        text = text.replace(space, " ")
    return len(reader.pages), text


def squeezed(text: str) -> str:
    """Text without any whitespace, to find a phrase that wrapped across lines."""
    return "".join(text.split())


def test_proposal_shows_the_hand_computed_figures(book: SalesBook) -> None:
    data = render_proposal(proposal(book))
    assert data.startswith(b"%PDF")
    pages, text = read(data)
    assert pages in (1, 2)
    for expected in (
        "ООО «Ясная CRM»",
        "Коммерческое предложение № 1024",
        "Внедрение CRM под ключ для отдела продаж",
        "Ирина Соколова, ООО «Северная логистика»",
        "23 ноября 2026 г.",
        "25 чел.",
        "6 ч",
        "900 ₽",
        "40 %",
        "48 нед.",
        "2 880 ч",  # hours a year
        "2 592 000 ₽",  # saving a year
        "216 000 ₽",  # saving a month
        "5,6 мес.",  # payback
        "1 392 000 ₽",  # first-year net
        "1 200 000 ₽",  # price
        "Алексей Морозов",
        "Снижение затрат",
        "Экономия времени",
        "Рост выручки",
        "Производитель упаковки, 120 сотрудников",
    ):
        assert expected in text, expected


def test_english_layout_texts(book: SalesBook) -> None:
    pages, text = read(render_proposal(proposal(book), locale="en"))
    assert pages in (1, 2)
    for expected in (
        "Commercial proposal No. 1024",
        "23 November 2026",
        "Saving a year",
        "2 592 000 ₽",
        "5.6 months",
        "Your manager",
    ):
        assert expected in text, expected
    assert "Коммерческое предложение" not in text
    # The book's own texts stay as the book wrote them.
    assert "Внедрение CRM под ключ для отдела продаж" in text


def test_unsupported_locale_is_refused(book: SalesBook) -> None:
    with pytest.raises(ValueError, match="unsupported locale 'de'"):
        render_proposal(proposal(book), locale="de")


def test_a_very_long_client_company_wraps_within_two_pages(book: SalesBook) -> None:
    company = "ООО «" + "Северо-Западная транспортно-логистическая компания " * 12 + "»"
    unbroken = "Х" * 300  # no space to break at: must still wrap, not run off the page
    pages, text = read(render_proposal(proposal(book, client_company=f"{company} {unbroken}")))
    assert pages <= 2
    assert squeezed(company) in squeezed(text)
    assert unbroken in squeezed(text)


def test_client_texts_are_printed_literally(book: SalesBook) -> None:
    name = "Анна {nb} **Ли** <b>李娜</b> 50% & Co"
    pages, text = read(render_proposal(proposal(book, client_name=name, client_company=None)))
    assert pages <= 2
    assert name in text
    # "{nb}" would be the total page count if fpdf2's page alias were on.
    assert "Анна 2" not in text


def test_rendering_is_deterministic_and_dated(book: SalesBook) -> None:
    document = proposal(book)
    first, second = render_proposal(document), render_proposal(document)
    assert first == second
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None and metadata.creation_date is not None
    assert metadata.creation_date.date() == DATE
    assert metadata.title == "Коммерческое предложение № 1024"


def test_other_currencies_are_written_as_their_code(book: SalesBook) -> None:
    _, text = read(render_proposal(proposal(book, currency="EUR")))
    assert "2 592 000 EUR" in text and "1 200 000 EUR" in text
    assert "2 592 000 ₽" not in text


def test_no_payback_is_said_in_words(book: SalesBook) -> None:
    document = proposal(book)
    effect = dataclasses.replace(
        document.effect,
        annual_saving=Decimal(0),
        monthly_saving=Decimal(0),
        payback_months=None,
        first_year_net=-document.effect.price,
    )
    _, text = read(render_proposal(dataclasses.replace(document, effect=effect)))
    assert TEXTS["ru"]["no_payback"] in text
    assert "−1 200 000 ₽" in text


def test_a_template_at_every_length_limit_fits_two_pages(book: SalesBook) -> None:
    def filler(words: str, limit: int) -> str:
        return (words * limit)[:limit]

    template = book.proposal("implementation_mid").model_copy(
        update={
            "title": filler("Длинный заголовок ", PROPOSAL_TITLE_LIMIT),
            "arguments": [
                ValueArgument(
                    result=result, text=filler("Конкретный результат ", PROPOSAL_ARGUMENT_LIMIT)
                )
                for result in ("cost_saved", "time_saved", "revenue_gained") * 2
            ],
            "stories": [
                SuccessStory(
                    client=filler("Клиент ", PROPOSAL_STORY_CLIENT_LIMIT),
                    result=filler("Результат клиента ", PROPOSAL_STORY_RESULT_LIMIT),
                )
            ]
            * 2,
            "price_note": filler("Что входит ", PROPOSAL_PRICE_NOTE_LIMIT),
        }
    )
    company = filler("Название компании ", 128)  # the longest company a lead can give
    pages, _ = read(render_proposal(proposal(book, template=template, client_company=company)))
    assert pages == 2


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (Decimal(1234567), "RUB", "ru", "1\u202f234\u202f567\u00a0₽"),
        (Decimal("1500.5"), "RUB", "ru", "1\u202f500,50\u00a0₽"),
        (Decimal("1500.5"), "RUB", "en", "1\u202f500.50\u00a0₽"),
        (Decimal(-899), "RUB", "ru", "\u2212899\u00a0₽"),
        (Decimal(999), "USD", "en", "999\u00a0USD"),
    ],
)
def test_money_format(amount: Decimal, currency: str, locale: str, expected: str) -> None:
    texts = TEXTS["en" if locale == "en" else "ru"]
    assert format_money(amount, currency, texts) == expected


def test_money_without_the_rouble_glyph_says_rub() -> None:
    assert format_money(Decimal(100), "RUB", TEXTS["ru"], ruble_sign=False) == "100\u00a0руб."


def test_example_command_writes_the_example(tmp_path: Path, book: SalesBook) -> None:
    target = tmp_path / "docs" / "proposal-example.pdf"
    main(["--example", str(target)])
    data = target.read_bytes()
    assert data == render_proposal(example_document(book))
    pages, text = read(data)
    assert pages in (1, 2)
    assert "2 592 000 ₽" in text and "23 ноября 2026 г." in text
