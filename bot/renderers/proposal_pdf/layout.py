"""The page: A4, margins, fonts, the footer, and the building blocks the sections are made of
(headings kept with what follows, paragraphs, bullets, labelled lines, rules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.renderers.proposal_pdf.document import ProposalDocument
from bot.renderers.proposal_pdf.fonts import (
    BOLD_FONT,
    FALLBACK_FONT,
    REGULAR_FONT,
    glyph_codepoints,
)
from bot.renderers.proposal_pdf.numbers import RUBLE_SIGN, format_money, printable
from bot.renderers.proposal_pdf.texts import TEXTS, Locale

# Layout, in millimetres and points.
MARGIN = 18.0


LINE = 5.2


BODY_SIZE = 10.0


SMALL_SIZE = 8.0


ACCENT = (31, 69, 125)


MUTED = (105, 112, 122)


TEXT = (25, 25, 25)


RULE = (200, 206, 214)


TABLE_FILL = (240, 244, 250)


BULLET_INDENT = 5.0


class ProposalLayout(FPDF):
    """One layout pass of a proposal at a type scale (1 is the normal size): the page and its
    building blocks; :class:`~bot.renderers.proposal_pdf.sections.ProposalPdf` fills it."""

    def __init__(
        self,
        document: ProposalDocument,
        locale: Locale,
        scale: float,
        without_glyph: list[int],
        total_pages: int | None,
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        self.texts = TEXTS[locale]
        self.scale = scale
        self.body_line = LINE * scale
        self.total_pages = total_pages
        # Documented to turn the page-count alias off, though typed as str; render_proposal
        # gives the footer the count instead.
        self.alias_nb_pages(None)  # type: ignore[arg-type]
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN)
        self.add_font("dejavu", "", REGULAR_FONT)
        self.add_font("dejavu", "B", BOLD_FONT)
        if without_glyph and FALLBACK_FONT.exists():
            self.add_font("lastresort", "", FALLBACK_FONT, unicode_range=without_glyph)
            self.set_fallback_fonts(["lastresort"], exact_match=False)
        self.ruble_sign = ord(RUBLE_SIGN) in glyph_codepoints()
        self.set_title(self.texts["title"].format(number=document.deal_number))
        self.set_author(printable(document.company))
        self.set_subject(printable(document.template.title))
        self.set_creator("salesbot")
        self.set_lang(locale)
        # Noon UTC: readers from UTC−11 to UTC+11 see the document's own date.
        self.set_creation_date(dt.datetime.combine(document.date, dt.time(12, 0), tzinfo=dt.UTC))

    def footer(self) -> None:
        if self.total_pages is None:
            return
        self.set_y(-MARGIN + 6)
        self._font(SMALL_SIZE / self.scale, MUTED)  # the footer keeps its size at any scale
        page = self.texts["page"].format(page=self.page_no(), pages=self.total_pages)
        page_width = 30.0
        company = printable(self.document.company)
        self.cell(self.epw - page_width, 4, company, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.cell(page_width, 4, page, align="R")

    # --- building blocks ---

    def _money(self, amount: Decimal) -> str:
        return format_money(amount, self.document.currency, self.texts, self.ruble_sign)

    def _font(self, size: float, color: tuple[int, int, int], bold: bool = False) -> None:
        self.set_font("dejavu", "B" if bold else "", size * self.scale)
        self.set_text_color(*color)

    def _paragraph(self, text: str, height: float) -> None:
        self.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _labelled(self, label: str, value: str) -> None:
        label_width = 36.0
        height = self.body_line + 0.6
        self._font(BODY_SIZE, MUTED)
        self.cell(label_width, height, f"{label}:", new_x=XPos.RIGHT, new_y=YPos.TOP)
        self._font(BODY_SIZE, TEXT, bold=True)
        self.multi_cell(0, height, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _bullet(self, text: str) -> None:
        self._keep(2 * self.body_line)
        self.cell(BULLET_INDENT, self.body_line, "•", new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.multi_cell(0, self.body_line, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(0.8 * self.scale)

    def _section(self, title: str, keep_with: float) -> None:
        """A section heading, moved to the next page with `keep_with` millimetres of what
        follows rather than left alone at the bottom of a page."""
        self.ln(4 * self.scale)
        self._keep(8 * self.scale + keep_with)
        self._font(12.5, ACCENT, bold=True)
        self._paragraph(title, 7 * self.scale)
        self.ln(0.8 * self.scale)

    def _keep(self, height: float) -> None:
        if self.will_page_break(height):
            self.add_page()

    def _rule(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(2)
