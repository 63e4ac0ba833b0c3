"""Reports: /report for a chosen period (a manager sees their own deals' figures), and for those
who see the team's figures /digest (the morning digest, now) and /ab (the scripts' A/B
results)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.renderers.export import deals_csv, workbook
from bot.screens.digest import (
    caption,
    chart,
    digest_keyboard,
    drill_text,
    managers_screen,
    report_text,
)
from bot.screens.in_place import edit_screen
from bot.screens.source_economics import economics_text
from bot.telegram.callbacks import DigestDrill, DrillKind, ReportExport, ReportPeriod, ReportSources
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import end_conversation
from bot.telegram.i18n import join_within_limit, period_days, period_text, t, tp
from bot.telegram.repeated_presses import ONE_PER_TAP
from bot.when_parser import ImpossibleDate, typed_date
from config.settings import Settings
from domain.abtest import Proportion
from domain.clock import Clock
from domain.forecast import PlanMonth
from domain.kpi import NAMED_PERIODS, Period, days_period, named_period
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.scripts import ScriptLibrary
from domain.working_time import WorkingCalendar
from services.digest import digest, figures
from services.export import export_rows
from services.lens import lens
from services.script_report import script_ab
from services.staff import Actor
from services.unit_economics import month_source_economics
from storage.unit_of_work import UnitOfWork

HISTORY_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


async def digest_now(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    figures = await digest(uow, clock, book, calendar, actor, ZoneInfo(settings.timezone))
    png = await chart(figures, book)
    await message.answer_photo(
        BufferedInputFile(png, filename="digest.png"),
        caption=caption(figures, book),
        reply_markup=digest_keyboard(book),
    )


async def digest_drill(
    query: CallbackQuery,
    callback_data: DigestDrill,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    """From the digest into the managers' table, the lead sources' economics, one manager, or
    one pipeline (the month so far, as the digest)."""
    zone = ZoneInfo(settings.timezone)
    kind, key = callback_data.kind, callback_data.key
    try:
        if kind is DrillKind.MANAGERS:
            team = await digest(uow, clock, book, calendar, actor, zone)
            text, markup = managers_screen(team, book)
        elif kind is DrillKind.SOURCES:
            sources = await month_source_economics(uow, clock, book, actor, zone)
            text, markup = economics_text(sources, book), None
        elif kind is DrillKind.PIPELINE:
            pipeline = book.pipelines[key]
            one = await digest(uow, clock, book, calendar, actor, zone, pipeline_id=pipeline.id)
            text, markup = drill_text(one, book, pipeline.name), None
        else:
            one = await digest(uow, clock, book, calendar, actor, zone, manager_id=key)
            names = [row.name for row in one.forecast.managers]
            text, markup = drill_text(one, book, names[0] if names else str(key)), None
    except IndexError:
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def script_results(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    scripts: ScriptLibrary,
) -> None:
    """/ab: the objection scripts' A/B results over all the history so far."""
    # Everything so far, this very moment included (a period's end is exclusive).
    until = clock.now() + dt.timedelta(seconds=1)
    results = await script_ab(uow, actor, Period(HISTORY_START, until))
    if not results:
        await message.answer(t("ab.empty"))
        return
    lines = [t("ab.title")]
    for result in results:
        try:
            objection = scripts.objection(result.objection_id)
            title, styles = objection.title, {v.id: v.style.label for v in objection.variants}
        except KeyError:
            title, styles = result.objection_id, {}
        lines.append(t("ab.objection", title=title))
        for variant in result.variants:
            lines.append(
                t(
                    "ab.variant",
                    variant=styles.get(variant.variant_id, variant.variant_id),
                    uses=variant.uses,
                    helped=_share(variant.helped),
                    won=_share(variant.won),
                )
            )
        for verdict_key, comparison in (
            ("ab.helps_more", result.helped),
            ("ab.wins_more", result.won),
        ):
            if comparison.better is not None:
                best = result.variants[comparison.better].variant_id
                lines.append(
                    t(verdict_key, variant=styles.get(best, best), p=f"{comparison.p_value:.3f}")
                )
        if result.helped.better is None and result.won.better is None:
            lines.append(t("ab.not_enough"))
    await message.answer(join_within_limit(lines, "list.more"))


def _share(proportion: Proportion) -> str:
    if not proportion.trials:
        return "—"
    share = 100 * proportion.successes / proportion.trials
    return f"{share:.0f} % ({proportion.successes}/{proportion.trials})"


class ReportInput(StatesGroup):
    dates = State()


_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2,4}))?")


PICK_AGAIN = "pick"
"""`ReportPeriod.name` of the button under a report that brings the periods back."""


async def report_start(message: Message) -> None:
    await message.answer(t("report.pick"), reply_markup=_periods())


def _periods() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for name in (*NAMED_PERIODS, "custom"):
        keyboard.button(text=tp(f"report.period.{name}"), callback_data=ReportPeriod(name=name))
    keyboard.adjust(2)
    return keyboard.as_markup()


async def report_period(
    query: CallbackQuery,
    callback_data: ReportPeriod,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    if callback_data.name == PICK_AGAIN:  # another period, in the report's place
        await query.answer()
        await edit_screen(query, t("report.pick"), _periods())
        return
    if callback_data.name == "custom":
        await state.set_state(ReportInput.dates)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(t("report.ask_dates"))
        return
    if callback_data.name not in NAMED_PERIODS:
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    zone = ZoneInfo(settings.timezone)
    period = named_period(callback_data.name, clock.now(), zone)
    text, markup = await _report(uow, clock, book, calendar, actor, period, zone)
    await query.answer()
    await edit_screen(query, text, markup)


async def report_dates(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    zone = ZoneInfo(settings.timezone)
    try:
        dates = _dates(message.text or "", clock.now().astimezone(zone).year)
    except ImpossibleDate as impossible:
        await message.answer(t("input.no_such_date", date=impossible.date))
        return
    if dates is None:
        await message.answer(t("report.bad_dates"))
        return
    await end_conversation(state)
    period = days_period(dates[0], dates[1], zone)
    text, markup = await _report(uow, clock, book, calendar, actor, period, zone)
    await message.answer(text, reply_markup=markup)


async def report_export(
    query: CallbackQuery,
    callback_data: ReportExport,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    """The report's rows as files: an .xlsx (KPIs, deals, stage history, activities) and a .csv
    of the deals."""
    zone = ZoneInfo(settings.timezone)
    try:
        period = Period(
            dt.datetime.fromtimestamp(callback_data.start, dt.UTC),
            dt.datetime.fromtimestamp(callback_data.end, dt.UTC),
        )
    except (ValueError, OverflowError, OSError):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    await query.answer(tp("export.preparing"))
    view = await lens(uow, book, actor, PlanMonth(clock.now(), calendar, zone))
    data = await figures(uow, clock, book, calendar, view, period, zone)
    rows = await export_rows(uow, view, period)
    xlsx = await workbook(data, rows, book)
    first, last = period_days(period.start, period.end, zone)
    name = f"report_{first:%Y%m%d}_{last:%Y%m%d}"
    shown = {"period": period_text(period.start, period.end, zone)}
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(xlsx, filename=f"{name}.xlsx"), caption=t("export.xlsx", **shown)
        )
        await query.message.answer_document(
            BufferedInputFile(deals_csv(rows, zone), filename=f"{name}_deals.csv"),
            caption=t("export.csv", **shown),
        )


def _report_buttons(period: Period, *, team: bool = False) -> InlineKeyboardMarkup:
    """Under a report: its export, under the team's the lead sources' economics, and the
    periods again (a week against the one before, without typing /report twice)."""
    keyboard = InlineKeyboardBuilder()
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    keyboard.button(text=tp("export.button"), callback_data=ReportExport(start=start, end=end))
    if team:
        keyboard.button(
            text=tp("report.sources"), callback_data=ReportSources(start=start, end=end)
        )
    keyboard.button(text=tp("report.other_period"), callback_data=ReportPeriod(name=PICK_AGAIN))
    keyboard.adjust(1)
    return keyboard.as_markup()


async def _report(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    period: Period,
    zone: ZoneInfo,
) -> tuple[str, InlineKeyboardMarkup]:
    view = await lens(uow, book, actor, PlanMonth(clock.now(), calendar, zone))
    data = await figures(uow, clock, book, calendar, view, period, zone)
    own = view.manager_id is not None
    return report_text(data, book, own=own), _report_buttons(period, team=not own)


def _dates(text: str, year: int) -> tuple[dt.date, dt.date] | None:
    """Two dates, "01.03–05.03" or "01.03.2026 - 05.03.2026", or one: that day (a missing
    year: this one). `ImpossibleDate` for a day its month does not have."""
    found = list(_DATE.finditer(text))
    if not 1 <= len(found) <= 2:
        return None
    days = [typed_date(match, year) for match in found]
    return days[0], days[-1]


def create_router() -> Router:
    router = Router(name="reports")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    team_only = HasRole(Role.SUPERVISOR, Role.ADMIN)
    router.message.register(digest_now, Command("digest"), StateFilter("*"), team_only)
    router.message.register(script_results, Command("ab"), StateFilter("*"), team_only)
    router.message.register(report_start, Command("report"), StateFilter("*"))
    router.callback_query.register(report_period, ReportPeriod.filter())
    router.callback_query.register(report_export, ReportExport.filter(), flags=ONE_PER_TAP)
    router.callback_query.register(digest_drill, DigestDrill.filter(), team_only, flags=ONE_PER_TAP)
    router.message.register(report_dates, ReportInput.dates, F.text)
    return router
