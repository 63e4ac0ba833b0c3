"""The digest as Telegram shows it: one photo (the funnels and revenue against plan, drawn with
matplotlib off-screen) with the figures as its caption, within Telegram's 1024 characters."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.screens.motivation_screens import missing_compact
from bot.telegram.callbacks import DigestDrill, DrillKind
from bot.telegram.i18n import (
    Html,
    decimal_text,
    join_within_limit,
    money,
    percent,
    period_text,
    t,
    tp,
)
from domain.forecast import PlanPace
from domain.funnel import Funnel
from domain.kpi import Trend
from domain.sales_book import SalesBook
from services.digest import Digest
from services.motivation import BehindTargets

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CAPTION_LIMIT = 1024
BEHIND_SHOWN = 3
OVERDUE_SHOWN = 3
"""Managers named in the caption's overdue line; the managers' table has them all."""
ARROWS = {Trend.UP: "⬆️", Trend.DOWN: "⬇️", Trend.FLAT: "➡️", Trend.NEW: "🆕"}


def caption(digest: Digest, book: SalesBook) -> str:
    """The digest photo's caption within Telegram's 1024 characters: lines past the limit give
    way to an "and N more" line (the drill-down buttons show everything)."""
    local_start = digest.period.start.astimezone(digest.zone)
    local_end = digest.period.end.astimezone(digest.zone)
    title = t(
        "digest.title",
        company=book.company,
        start=local_start.strftime("%d.%m"),
        end=local_end.strftime("%d.%m %H:%M"),
    )
    return join_within_limit([title, *figure_lines(digest, book)], "list.more", CAPTION_LIMIT)


def report_text(digest: Digest, book: SalesBook, own: bool) -> str:
    """/report's message: the same figures for a chosen period (a manager's: their own)."""
    title = t(
        "report.title_own" if own else "report.title",
        period=period_text(digest.period.start, digest.period.end, digest.zone),
    )
    return join_within_limit([title, *figure_lines(digest, book)], "list.more")


def figure_lines(digest: Digest, book: SalesBook) -> list[str]:
    lines: list[str] = []
    report = digest.kpis
    for kpi in report.kpi_ids:
        figure = report.figure(kpi)
        lines.append(
            t(
                "digest.kpi",
                arrow=ARROWS[figure.trend],
                label=t(f"digest.kpi.{kpi}"),
                value=figure_value(kpi, figure.value, book),
                previous=figure_value(kpi, figure.previous, book),
            )
        )
    current = report.current
    outlook = digest.forecast
    if outlook.pace is not None and digest.period.start == outlook.month_start:
        pass  # the month so far: the pace line below says it against the whole month's plan
    elif current.plan is None:
        lines.append(
            t("digest.revenue_alone", revenue=money(current.revenue), currency=book.currency)
        )
    else:
        lines.append(
            t(
                "digest.revenue",
                revenue=money(current.revenue),
                plan=money(current.plan),
                currency=book.currency,
            )
        )
    lines.extend(forecast_lines(digest, book))
    if digest.lens.pipeline_id is not None:
        for funnel in digest.funnels:
            lines.extend(funnel_lines(funnel, book))
    for funnel in digest.funnels:
        weakest = funnel.weakest
        if weakest is None or weakest.conversion is None:
            continue
        pipeline = book.pipeline(funnel.pipeline_id)
        lines.append(
            t(
                "digest.weakest",
                pipeline=pipeline.name,
                stage=pipeline.stage(weakest.stage_id).name,
                conversion=percent(weakest.conversion),
                target=percent(weakest.target),
            )
        )
    if digest.overdue:
        parts = [
            t(
                "digest.overdue_part",
                name=name or t("digest.queue"),
                count=count,
                deals=", ".join(f"№{deal_id}" for deal_id in worst),
            )
            for _, name, count, worst in digest.overdue
        ]
        others = sum(count for _, _, count, _ in digest.overdue[OVERDUE_SHOWN:])
        if others:
            parts = [*parts[:OVERDUE_SHOWN], t("digest.overdue_others", count=others)]
        lines.append(t("digest.overdue", parts=Html("; ".join(parts))))
    met, due = digest.first_response
    if due:
        lines.append(
            t(
                "digest.first_response",
                share=percent(Decimal(met) / Decimal(due)),
                met=met,
                due=due,
            )
        )
    if digest.behind_targets and digest.behind_targets.people:
        lines.append(behind_targets_line(digest.behind_targets))
    if digest.idle:
        lines.append(t("digest.idle", count=digest.idle))
    if digest.snoozed:
        lines.append(t("digest.snoozed", count=digest.snoozed))
    if digest.lost_reasons:
        reasons = ", ".join(
            f"{_reason_name(book, reason)} ({count})" for reason, count in digest.lost_reasons[:3]
        )
        lines.append(t("digest.lost", reasons=reasons))
    return lines


def behind_targets_line(behind: BehindTargets) -> str:
    parts = "; ".join(
        f"{name} {missing_compact(missing)}" for name, missing in behind.people[:BEHIND_SHOWN]
    )
    if behind.yesterday:
        return t("digest.behind_targets", parts=parts)
    day = tp(f"weekday.{behind.day.isoweekday()}")
    return t(
        "digest.behind_targets_on",
        day=day[:1].upper() + day[1:],
        date=behind.day.strftime("%d.%m"),
        parts=parts,
    )


def forecast_lines(digest: Digest, book: SalesBook) -> list[str]:
    """The open pipeline weighted by stage, this month against its plan and the pace the rest
    of it needs, and (for the team) the managers furthest behind their pace."""
    outlook = digest.forecast
    lines: list[str] = []
    pipeline = outlook.pipeline
    if pipeline.deals:
        lines.append(
            t(
                "digest.forecast",
                weighted=money(pipeline.weighted),
                amount=money(pipeline.amount),
                deals=pipeline.deals,
                currency=book.currency,
            )
        )
        if pipeline.without_amount:
            lines.append(t("digest.forecast_unpriced", count=pipeline.without_amount))
    if outlook.pace is not None and outlook.pace.plan:
        lines.extend(pace_lines(outlook.pace, book))
    if digest.lens.manager_id is None:
        behind = [row for row in outlook.managers if row.pace.plan and _behind(row.pace)]
        if behind:
            parts = ", ".join(
                f"{row.name} −{money(-row.pace.ahead)}" for row in behind[:BEHIND_SHOWN]
            )
            lines.append(t("digest.behind", parts=parts, currency=book.currency))
    return lines


def pace_lines(pace: PlanPace, book: SalesBook) -> list[str]:
    lines = [
        t(
            "digest.pace",
            revenue=money(pace.revenue),
            plan=money(pace.plan),
            share=percent(pace.fulfilment or Decimal(0)),
            currency=book.currency,
        )
    ]
    if not pace.remaining:
        lines.append(t("digest.pace_done"))
        return lines
    gap = pace_gap(pace, book.currency)
    if pace.needed_per_day is None:
        lines.append(
            t(
                "digest.pace_month_over",
                gap=gap,
                left=money(pace.remaining),
                currency=book.currency,
            )
        )
    else:
        lines.append(
            t(
                "digest.pace_needed",
                gap=gap,
                needed=money(pace.needed_per_day),
                days=pace.days_left,
                currency=book.currency,
            )
        )
    return lines


def funnel_lines(funnel: Funnel, book: SalesBook) -> list[str]:
    """Every step of one pipeline's funnel: deals that reached it, and how many of them went on
    against the book's target."""
    pipeline = book.pipeline(funnel.pipeline_id)
    lines = [t("drill.funnel_title", pipeline=pipeline.name)]
    for step in funnel.steps:
        name = pipeline.stage(step.stage_id).name
        if step.conversion is None:
            lines.append(t("drill.funnel_last", stage=name, reached=step.reached))
        else:
            lines.append(
                t(
                    "drill.funnel_step",
                    stage=name,
                    reached=step.reached,
                    conversion=percent(step.conversion),
                    target=percent(step.target),
                    mark="✅" if step.conversion >= step.target else "🔻",
                )
            )
    return lines


def digest_keyboard(book: SalesBook) -> InlineKeyboardMarkup:
    """Under the digest: into the managers, the lead sources' economics, or one pipeline."""
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=tp("drill.managers"), callback_data=DigestDrill(kind=DrillKind.MANAGERS))
    keyboard.button(text=tp("drill.sources"), callback_data=DigestDrill(kind=DrillKind.SOURCES))
    for index, pipeline in enumerate(book.pipelines):
        keyboard.button(
            text=tp("drill.pipeline", pipeline=pipeline.name)[:64],
            callback_data=DigestDrill(kind=DrillKind.PIPELINE, key=index),
        )
    keyboard.adjust(1)
    return keyboard.as_markup()


def managers_screen(digest: Digest, book: SalesBook) -> tuple[str, InlineKeyboardMarkup]:
    """The team's managers this month: revenue against each one's plan and pace, the weighted
    pipeline, overdue deals; a button into each."""
    overdue = {manager: count for manager, _, count, _ in digest.overdue}
    local_start = digest.period.start.astimezone(digest.zone)
    lines = [t("drill.managers_title", start=local_start.strftime("%d.%m"))]
    keyboard = InlineKeyboardBuilder()
    for row in digest.forecast.managers:
        pace = row.pace
        lines.append(
            t(
                "drill.manager_row",
                name=row.name,
                revenue=money(pace.revenue),
                plan=money(pace.plan),
                share=percent(pace.fulfilment) if pace.fulfilment is not None else "—",
                gap=pace_gap(pace, book.currency),
                weighted=money(row.pipeline.weighted),
                deals=row.pipeline.deals,
                overdue=overdue.get(row.manager_id, 0),
                currency=book.currency,
            )
        )
        keyboard.button(
            text=f"👤 {row.name}"[:64],
            callback_data=DigestDrill(kind=DrillKind.MANAGER, key=row.manager_id),
        )
    queue = digest.forecast.queue
    if queue.deals:
        lines.append(t("drill.queue_row", deals=queue.deals, overdue=overdue.get(None, 0)))
    if not digest.forecast.managers:
        lines.append(t("drill.no_managers"))
    keyboard.adjust(2)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def drill_text(digest: Digest, book: SalesBook, name: str) -> str:
    """One manager's or one pipeline's month so far, the same figures as the digest."""
    local_start = digest.period.start.astimezone(digest.zone)
    local_end = digest.period.end.astimezone(digest.zone)
    title = t(
        "drill.pipeline_title" if digest.lens.pipeline_id is not None else "drill.manager_title",
        name=name,
        start=local_start.strftime("%d.%m"),
        end=local_end.strftime("%d.%m %H:%M"),
    )
    return join_within_limit([title, *figure_lines(digest, book)], "list.more")


async def chart(digest: Digest, book: SalesBook) -> bytes:
    """The PNG, drawn in a worker thread so the bot keeps answering meanwhile."""
    labels = {
        key: t(f"digest.chart.{key}")
        for key in ("revenue", "forecast", "pace", "plan", "period_plan", "title", "funnel_note")
    }
    return await asyncio.to_thread(_draw, digest, book, labels)


CHART_HEIGHT_INCHES = 9.0
CHART_COLUMN_INCHES = 6.0
CHART_DPI = 100
FUNNEL_COLOUR, REVENUE_COLOUR, FORECAST_COLOUR, PLAN_COLOUR = (
    "#4a7bd0",
    "#3aa655",
    "#9fd4ad",
    "#c8c8c8",
)


def chart_size(pipelines: int) -> tuple[int, int]:
    """The PNG's width and height in pixels: a column per pipeline (at least 8 inches wide in
    all), so each funnel stays readable on a phone."""
    width = max(CHART_COLUMN_INCHES * max(pipelines, 1), 8.0)
    return round(width * CHART_DPI), round(CHART_HEIGHT_INCHES * CHART_DPI)


def _draw(digest: Digest, book: SalesBook, labels: dict[str, str]) -> bytes:
    # matplotlib is imported with the first chart (in the worker thread), not at start-up.
    from matplotlib.figure import Figure

    pipelines = digest.funnels
    width, height = chart_size(len(pipelines))
    # A bare Figure draws with the Agg canvas, off-screen and without pyplot's global state,
    # so drawing in a worker thread is safe.
    figure = Figure(figsize=(width / CHART_DPI, height / CHART_DPI), dpi=CHART_DPI)
    grid = figure.add_gridspec(2, max(len(pipelines), 1), height_ratios=(3, 2))
    for column, funnel in enumerate(pipelines):
        _draw_funnel(figure.add_subplot(grid[0, column]), funnel, book)
    _draw_revenue(figure.add_subplot(grid[1, :]), digest, book, labels)
    figure.text(0.01, 0.005, labels["funnel_note"], fontsize=8, color="#666666")
    figure.tight_layout(rect=(0, 0.02, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_funnel(axis: Axes, funnel: Funnel, book: SalesBook) -> None:
    """Deals that reached each stage; beside each bar the conversion to the next stage against
    the book's target (red where it falls short)."""
    from matplotlib.ticker import FuncFormatter

    pipeline = book.pipeline(funnel.pipeline_id)
    names = [pipeline.stage(step.stage_id).name for step in funnel.steps]
    reached = [step.reached for step in funnel.steps]
    bars = axis.barh(names[::-1], reached[::-1], color=FUNNEL_COLOUR)
    for bar, step in zip(bars, funnel.steps[::-1], strict=True):
        note, colour = f" {step.reached}", "black"
        if step.conversion is not None:
            note += f"  → {percent(step.conversion)} / {percent(step.target)}"
            colour = "black" if step.conversion >= step.target else "#c0392b"
        axis.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            note,
            va="center",
            fontsize=10,
            color=colour,
        )
    axis.set_title(pipeline.name, fontsize=12)
    axis.tick_params(labelsize=10)
    axis.set_xlim(0, max(max(reached, default=0), 1) * 1.9)
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}"))


def _draw_revenue(axis: Axes, digest: Digest, book: SalesBook, labels: dict[str, str]) -> None:
    """The month so far: revenue, revenue with the weighted forecast on top, the even pace to
    date and the whole month's plan. Any other period: its revenue against its plan."""
    from matplotlib.ticker import FuncFormatter

    outlook, current = digest.forecast, digest.kpis.current
    pace = outlook.pace
    bars: list[tuple[str, float, str]]
    if pace is not None and digest.period.start == outlook.month_start:
        bars = [
            (labels["revenue"], float(pace.revenue), REVENUE_COLOUR),
            (labels["forecast"], float(pace.revenue + outlook.pipeline.weighted), FORECAST_COLOUR),
            (labels["pace"], float(pace.expected_by_now), PLAN_COLOUR),
            (labels["plan"], float(pace.plan), PLAN_COLOUR),
        ]
    else:
        bars = [(labels["revenue"], float(current.revenue), REVENUE_COLOUR)]
        if current.plan is not None:
            bars.append((labels["period_plan"], float(current.plan), PLAN_COLOUR))
    names = [name for name, _, _ in bars][::-1]
    values = [value for _, value, _ in bars][::-1]
    drawn = axis.barh(names, values, color=[colour for _, _, colour in bars][::-1])
    for bar, value in zip(drawn, values, strict=True):
        axis.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {money(Decimal(str(value)))}",
            va="center",
            fontsize=10,
        )
    axis.set_title(f"{labels['title']}, {book.currency}", fontsize=12)
    axis.tick_params(labelsize=10)
    axis.set_xlim(0, max(max(values, default=0), 1) * 1.25)
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: money(Decimal(value))))


def figure_value(kpi: str, value: Decimal | None, book: SalesBook) -> str:
    """A KPI's value as people read it: percentages, money with the currency, days."""
    if value is None:
        return "—"
    if kpi in ("key_stage_conversion", "plan_fulfilment"):
        return percent(value)
    if kpi == "average_deal":
        return f"{money(value)} {book.currency}"
    if kpi == "sales_cycle":
        return t("digest.days", days=decimal_text(value, 1))
    return f"{int(value)}"


def _reason_name(book: SalesBook, reason_id: str) -> str:
    try:
        return book.lost_reason(reason_id).name
    except KeyError:
        return reason_id or "—"


def pace_gap(pace: PlanPace, currency: str) -> str:
    """Ahead of the month's pace or behind it, by how much; "on pace" when that rounds to
    nothing (a manager who joined today is neither ahead nor behind)."""
    if _on_pace(pace):
        return t("digest.pace_on")
    key = "digest.pace_ahead" if pace.ahead > 0 else "digest.pace_behind"
    return t(key, amount=money(abs(pace.ahead)), currency=currency)


def _on_pace(pace: PlanPace) -> bool:
    return money(abs(pace.ahead)) == money(Decimal(0))


def _behind(pace: PlanPace) -> bool:
    return pace.ahead < 0 and not _on_pace(pace)
