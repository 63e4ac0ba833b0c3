"""The proposal's sections, in order: who offers what to whom, the value arguments grouped by
the result they promise, the economic-effect table, success stories, the price, the manager."""

from __future__ import annotations

from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from bot.renderers.proposal_pdf.layout import (
    ACCENT,
    BODY_SIZE,
    MUTED,
    RULE,
    SMALL_SIZE,
    TABLE_FILL,
    TEXT,
    ProposalLayout,
)
from bot.renderers.proposal_pdf.numbers import format_date, format_number, percent_places, printable
from domain.book_proposals import ValueResult

RESULT_ORDER: tuple[ValueResult, ...] = ("cost_saved", "time_saved", "revenue_gained")

"""Arguments are grouped in the order the methodology names them: lower costs, faster work,
more revenue."""
CALCULATION_ROWS = 10


class ProposalPdf(ProposalLayout):
    """A proposal laid out section after section."""

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
        share_places = percent_places(effect.recovered_share)
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
