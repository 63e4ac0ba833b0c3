"""The proposal as PDF bytes: laid out once to count its pages, in a smaller type if need be."""

from __future__ import annotations

from collections.abc import Mapping

from bot.renderers.proposal_pdf.document import ProposalDocument
from bot.renderers.proposal_pdf.fonts import characters_without_glyph
from bot.renderers.proposal_pdf.numbers import printable
from bot.renderers.proposal_pdf.sections import ProposalPdf
from bot.renderers.proposal_pdf.texts import LOCALES, TEXTS, Locale

MAX_PAGES = 2


TYPE_SCALES = (1.0, 0.9, 0.8, 0.7)

"""Type sizes tried in turn until the proposal fits two pages. The book's length limits keep a
template within two pages at full size; only extreme client texts need a smaller type."""


def render_proposal(document: ProposalDocument, locale: str = "ru") -> bytes:
    """The proposal as PDF bytes, with the layout's texts in `locale` ("ru" or "en").

    The same document and locale always give the same bytes: the PDF's creation date is the
    document's date. Takes a few tenths of a second: call it off the event loop.
    """
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; use one of {', '.join(LOCALES)}")
    language: Locale = "en" if locale == "en" else "ru"
    without_glyph = characters_without_glyph(all_text(document, TEXTS[language]))
    # The footer says "page 1 of 2", so the document is laid out once to count its pages (and,
    # when it runs longer than two, again in a smaller type). fpdf2's own page-count alias
    # would also replace "{nb}" typed in a client's name.
    for scale in TYPE_SCALES:
        draft = ProposalPdf(document, language, scale, without_glyph, total_pages=None)
        draft.compose()
        if draft.page_no() <= MAX_PAGES:
            break
    final = ProposalPdf(document, language, scale, without_glyph, total_pages=draft.page_no())
    final.compose()
    return bytes(final.output())


def all_text(document: ProposalDocument, texts: Mapping[str, str]) -> str:
    template = document.template
    parts = [
        document.company,
        document.client_name,
        document.client_company or "",
        document.manager_name,
        template.title,
        template.price_note,
        *(argument.text for argument in template.arguments),
        *(f"{story.client} {story.result}" for story in template.stories),
        *texts.values(),
    ]
    return printable(" ".join(parts))
