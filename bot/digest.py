"""The digest as Telegram shows it: one photo (the funnels and revenue against plan, drawn with
matplotlib off-screen) with the figures as its caption, within Telegram's 1024 characters."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bot.i18n import Html, join_within_limit, t
from domain.kpi import Trend
from domain.sales_book import SalesBook
from services.digest import Digest

CAPTION_LIMIT = 1024
ARROWS = {Trend.UP: "⬆️", Trend.DOWN: "⬇️", Trend.FLAT: "➡️", Trend.NEW: "🆕"}


def caption(digest: Digest, book: SalesBook) -> str:
    """The digest photo's caption, cut to Telegram's 1024 characters if it ever grew past."""
    local_start = digest.period.start.astimezone(digest.zone)
    local_end = digest.period.end.astimezone(digest.zone)
    title = t(
        "digest.title",
        company=book.company,
        start=local_start.strftime("%d.%m"),
        end=local_end.strftime("%d.%m %H:%M"),
    )
    text = "\n".join([title, *figure_lines(digest, book)])
    return text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"


def report_text(digest: Digest, book: SalesBook, own: bool) -> str:
    """/report's message: the same figures for a chosen period (a manager's: their own)."""
    local_start = digest.period.start.astimezone(digest.zone)
    local_end = digest.period.end.astimezone(digest.zone)
    title = t(
        "report.title_own" if own else "report.title",
        start=local_start.strftime("%d.%m.%Y %H:%M"),
        end=local_end.strftime("%d.%m.%Y %H:%M"),
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
    lines.append(
        t(
            "digest.revenue",
            revenue=_money(current.revenue),
            plan=_money(current.plan),
            currency=book.currency,
        )
    )
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
                conversion=_percent(weakest.conversion),
                target=_percent(weakest.target),
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
            for name, count, worst in digest.overdue
        ]
        lines.append(t("digest.overdue", parts=Html("; ".join(parts))))
    met, due = digest.first_response
    if due:
        lines.append(
            t(
                "digest.first_response",
                share=_percent(Decimal(met) / Decimal(due)),
                met=met,
                due=due,
            )
        )
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


async def chart(digest: Digest, book: SalesBook) -> bytes:
    """The PNG, drawn in a worker thread so the bot keeps answering meanwhile."""
    labels = {
        "revenue": t("digest.chart.revenue"),
        "plan": t("digest.chart.plan"),
        "title": t("digest.chart.title"),
    }
    return await asyncio.to_thread(_draw, digest, book, labels)


def _draw(digest: Digest, book: SalesBook, labels: dict[str, str]) -> bytes:
    pipelines = digest.funnels
    # A bare Figure draws with the Agg canvas, off-screen and without pyplot's global state,
    # so drawing in a worker thread is safe.
    figure = Figure(figsize=(4.6 * (len(pipelines) + 1), 4.2), dpi=100)
    axes = figure.subplots(1, len(pipelines) + 1)
    for axis, funnel in zip(axes, pipelines, strict=False):
        pipeline = book.pipeline(funnel.pipeline_id)
        names = [pipeline.stage(step.stage_id).name for step in funnel.steps]
        reached = [step.reached for step in funnel.steps]
        bars = axis.barh(names[::-1], reached[::-1], color="#4a7bd0")
        for bar, step in zip(bars, funnel.steps[::-1], strict=True):
            note = f"{step.reached}"
            if step.conversion is not None:
                note += f"  → {_percent(step.conversion)} / {_percent(step.target)}"
            axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + note, va="center")
        axis.set_title(pipeline.name, fontsize=9)
        axis.set_xlim(0, max(max(reached, default=0), 1) * 1.8)
    revenue_axis = axes[-1]
    current = digest.kpis.current
    revenue_axis.bar(
        [labels["revenue"], labels["plan"]],
        [float(current.revenue), float(current.plan)],
        color=["#3aa655", "#c8c8c8"],
    )
    revenue_axis.set_title(f"{labels['title']}, {book.currency}", fontsize=9)
    revenue_axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _money(Decimal(value))))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def figure_value(kpi: str, value: Decimal | None, book: SalesBook) -> str:
    """A KPI's value as people read it: percentages, money with the currency, days."""
    if value is None:
        return "—"
    if kpi in ("key_stage_conversion", "plan_fulfilment"):
        return _percent(value)
    if kpi == "average_deal":
        return f"{_money(value)} {book.currency}"
    if kpi == "sales_cycle":
        return t("digest.days", days=f"{value:.1f}")
    return f"{int(value)}"


def _percent(value: Decimal) -> str:
    return f"{value * 100:.0f} %"


def _money(amount: Decimal) -> str:
    return f"{amount:,.0f}".replace(",", " ")


def _reason_name(book: SalesBook, reason_id: str) -> str:
    try:
        return book.lost_reason(reason_id).name
    except KeyError:
        return reason_id or "—"
