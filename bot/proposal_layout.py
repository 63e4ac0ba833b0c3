"""The fpdf2 drawing of a commercial proposal (`bot.proposal_pdf.render_proposal`).

A module of its own so that fpdf2 and matplotlib are imported with the first proposal drawn,
not when the bot starts.

Fonts are DejaVu Sans from matplotlib's own data, so Cyrillic renders on a fresh machine with
no system fonts; characters DejaVu lacks (CJK, most emoji) fall back to matplotlib's Last Resort
font, which draws a visible placeholder instead of dropping them silently.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from bot.proposal_pdf import (
    RESULT_ORDER,
    RUBLE_SIGN,
    TEXTS,
    Locale,
    ProposalDocument,
    format_date,
    format_money,
    format_number,
    printable,
)

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"
FALLBACK_FONT = FONT_DIR / "LastResortHE-Regular.ttf"

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
CALCULATION_ROWS = 10

MAX_PAGES = 2
TYPE_SCALES = (1.0, 0.9, 0.8, 0.7)
"""Type sizes tried in turn until the proposal fits two pages. The book's length limits keep a
template within two pages at full size; only extreme client texts need a smaller type."""


def lay_out(document: ProposalDocument, language: Locale) -> bytes:
    """The proposal as PDF bytes, with the layout's texts in `language`."""
    without_glyph = _characters_without_glyph(_all_text(document, TEXTS[language]))
    # The footer says "page 1 of 2", so the document is laid out once to count its pages (and,
    # when it runs longer than two, again in a smaller type). fpdf2's own page-count alias
    # would also replace "{nb}" typed in a client's name.
    for scale in TYPE_SCALES:
        draft = _ProposalPdf(document, language, scale, without_glyph, total_pages=None)
        draft.compose()
        if draft.page_no() <= MAX_PAGES:
            break
    final = _ProposalPdf(document, language, scale, without_glyph, total_pages=draft.page_no())
    final.compose()
    return bytes(final.output())


@functools.cache
def _glyph_codepoints() -> frozenset[int]:
    """Characters both DejaVu faces can draw."""
    probe = FPDF()
    probe.add_font("dejavu", "", REGULAR_FONT)
    probe.add_font("dejavu", "B", BOLD_FONT)
    faces = [probe.fonts["dejavu"], probe.fonts["dejavuB"]]
    maps = [frozenset(face.cmap) for face in faces if isinstance(face, TTFFont)]
    return frozenset.intersection(*maps) if maps else frozenset()


def _characters_without_glyph(text: str) -> list[int]:
    """Characters of `text` DejaVu cannot draw, for the fallback font. The fallback covers all
    of Unicode, so loading it whole takes seconds; loading only these keeps rendering fast."""
    drawable = _glyph_codepoints()
    return sorted({ord(char) for char in text if ord(char) not in drawable and char.isprintable()})


def _all_text(document: ProposalDocument, texts: Mapping[str, str]) -> str:
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


class _ProposalPdf(FPDF):
    """One layout pass of a proposal at a type scale (1 is the normal size)."""

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
        self.ruble_sign = ord(RUBLE_SIGN) in _glyph_codepoints()
        self.set_title(self.texts["title"].format(number=document.deal_number))
        self.set_author(printable(document.company))
        self.set_subject(printable(document.template.title))
        self.set_creator("salesbot")
        self.set_lang(locale)
        # Noon UTC: readers from UTC−11 to UTC+11 see the document's own date.
        self.set_creation_date(dt.datetime.combine(document.date, dt.time(12, 0), tzinfo=dt.UTC))

    # fpdf2 calls footer() on every page as it closes it.
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

    def compose(self) -> None:
        self.add_page()
        self._header()
        self._arguments()
        self._calculation()
        self._stories()
        self._price()
        self._signature()

    def _header(self) -> None:
        document, texts = self.document, self.texts
        self._font(BODY_SIZE, ACCENT, bold=True)
        self._paragraph(printable(document.company), self.body_line)
        self._rule()
        self.ln(3 * self.scale)
        self._font(18, TEXT, bold=True)
        self._paragraph(texts["title"].format(number=document.deal_number), 8 * self.scale)
        self._font(12, ACCENT)
        self._paragraph(document.template.title, 6 * self.scale)
        self.ln(3 * self.scale)
        whom = printable(document.client_name)
        if document.client_company:
            whom = f"{whom}, {printable(document.client_company)}"
        self._labelled(texts["for"], whom)
        self._labelled(texts["date"], format_date(document.date, texts))

    def _arguments(self) -> None:
        arguments = self.document.template.arguments
        self._section(self.texts["arguments"], keep_with=3 * self.body_line)
        for result in RESULT_ORDER:
            group = [argument.text for argument in arguments if argument.result == result]
            if not group:
                continue
            self._keep(3 * self.body_line)
            self._font(BODY_SIZE + 0.5, TEXT, bold=True)
            self._paragraph(self.texts[result], self.body_line + 0.6)
            self._font(BODY_SIZE, TEXT)
            for text in group:
                self._bullet(text)
            self.ln(1.2 * self.scale)

    def _calculation(self) -> None:
        texts, effect = self.texts, self.document.effect
        row_height = self.body_line + 2.2
        self._section(
            texts["calculation"], keep_with=CALCULATION_ROWS * row_height + 3 * self.body_line
        )
        self._font(BODY_SIZE, MUTED)
        self._paragraph(texts["calculation_intro"], self.body_line)
        self.ln(1.5 * self.scale)
        money = self._money
        payback = (
            texts["no_payback"]
            if effect.payback_months is None
            else texts["months"].format(value=format_number(effect.payback_months, texts, 1))
        )
        share_places = _percent_places(effect.recovered_share)
        share = texts["percent"].format(
            value=format_number(effect.recovered_share * 100, texts, share_places)
        )
        people = texts["people"].format(value=format_number(effect.team_size, texts))
        hours_lost = texts["hours"].format(value=format_number(effect.hours_lost_weekly, texts))
        weeks = texts["weeks"].format(value=effect.weeks_per_year)
        hours_saved = texts["hours"].format(
            value=format_number(effect.hours_saved_yearly, texts, 0)
        )
        rows: list[tuple[str, str, bool]] = [
            (texts["team_size"], people, False),
            (texts["hours_lost_weekly"], hours_lost, False),
            (texts["hourly_cost"], money(effect.hourly_cost), False),
            (texts["recovered_share"], share, False),
            (texts["weeks_per_year"], weeks, False),
            (texts["hours_saved_yearly"], hours_saved, True),
            (texts["annual_saving"], money(effect.annual_saving), True),
            (texts["monthly_saving"], money(effect.monthly_saving), True),
            (texts["payback_months"], payback, True),
            (texts["first_year_net"], money(effect.first_year_net), True),
        ]
        # Inputs plain, results bold on a tint: the eye goes to what the client gets.
        size = BODY_SIZE * self.scale
        input_style = FontFace(family="dejavu", emphasis="", size_pt=size, color=TEXT)
        result_style = FontFace(
            family="dejavu", emphasis="BOLD", size_pt=size, color=TEXT, fill_color=TABLE_FILL
        )
        self._font(BODY_SIZE, TEXT)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        with self.table(
            col_widths=(0.64, 0.36),
            text_align=("LEFT", "RIGHT"),
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            line_height=self.body_line,
            padding=(1.1 * self.scale, 2.0),
        ) as table:
            for label, value, is_result in rows:
                row = table.row(style=result_style if is_result else input_style)
                row.cell(label)
                row.cell(value)
        self.ln(2 * self.scale)
        self._font(SMALL_SIZE, MUTED)
        self._paragraph(texts["formula"], 3.8 * self.scale)

    def _stories(self) -> None:
        self._section(self.texts["stories"], keep_with=4 * self.body_line)
        for story in self.document.template.stories:
            self._keep(3 * self.body_line)
            self._font(BODY_SIZE, TEXT, bold=True)
            self._paragraph(story.client, self.body_line)
            self._font(BODY_SIZE, TEXT)
            self._paragraph(story.result, self.body_line)
            self.ln(2 * self.scale)

    def _price(self) -> None:
        template = self.document.template
        self._section(self.texts["price"], keep_with=4 * self.body_line)
        self._font(15, ACCENT, bold=True)
        self._paragraph(self._money(template.price), 8 * self.scale)
        if template.price_note:
            self._font(BODY_SIZE, TEXT)
            self._paragraph(template.price_note, self.body_line)

    def _signature(self) -> None:
        self._keep(5 * self.body_line)
        self.ln(5 * self.scale)
        self._rule()
        self.ln(2 * self.scale)
        self._labelled(self.texts["manager"], printable(self.document.manager_name))
        self.ln(1 * self.scale)
        self._font(BODY_SIZE, MUTED)
        self._paragraph(self.texts["closing"], self.body_line)

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


def _percent_places(share: Decimal) -> int:
    """Decimals a share needs as a percentage: 0.4 is 40 %, 0.125 is 12.5 %."""
    exponent = (share * 100).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
