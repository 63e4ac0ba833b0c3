"""/spend: supervisors enter what each lead source cost a month, by buttons and a typed amount
or as a .csv/.xlsx file; and the unit economics per source under a team report.

A file is an upload when its caption is /spend, or when it comes within `UPLOAD_WINDOW` of the
/spend screen, outside any other dialogue and not as a reply (a reply with a file goes to the
lead). The screen itself is no dialogue: what is typed after it is read as always (a reminder,
a reply to a lead). A file is imported whole or not at all: every bad row is named by its
number and nothing is stored. Who may do what is the services' check, so a forged button from
a manager changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Document, Message

from bot.renderers.spend_files import MAX_SPEND_FILE_BYTES, UnreadableTable, read_table, table_kind
from bot.screens.in_place import edit_screen
from bot.screens.source_economics import (
    amount_text,
    economics_text,
    month_from_key,
    month_name,
    month_screen,
    source_name,
    spend_screen,
)
from bot.telegram.callbacks import ReportSources, SpendPick
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import asked_already, end_conversation, enter_conversation
from bot.telegram.i18n import join_within_limit, money, t, tp
from bot.telegram.repeated_presses import ONE_PER_TAP
from config.settings import Settings
from domain.clock import Clock
from domain.kpi import Period
from domain.sales_book import SalesBook
from domain.unit_economics import (
    MAX_MONTHLY_SPEND,
    InvalidMonth,
    InvalidSpend,
    RowProblem,
    SpendTableEmpty,
    SpendTableInvalid,
    SpendTableTooLong,
    UnknownSource,
    parse_spend,
)
from services.staff import Actor
from services.unit_economics import (
    enter_spend,
    import_spend,
    may_enter_spend,
    recent_spend,
    source_economics,
)
from storage.unit_of_work import UnitOfWork

PROBLEMS_SHOWN = 20
"""Bad rows listed one by one; the rest are counted (fixing the first ones often fixes them)."""

UPLOAD_WINDOW = dt.timedelta(minutes=30)
"""How long after the /spend screen a file without the /spend caption is taken as an upload."""
UPLOAD_UNTIL = "spend_upload_until"


class SpendInput(StatesGroup):
    amount = State()
    """A source and a month are picked: the amount is typed next."""


async def _open_upload_window(state: FSMContext, clock: Clock) -> None:
    """The /spend screen is shown: no dialogue, but a file sent soon is an upload."""
    await enter_conversation(state, None, {UPLOAD_UNTIL: (clock.now() + UPLOAD_WINDOW).isoformat()})


async def _upload_window_open(state: FSMContext, clock: Clock) -> bool:
    until = (await state.get_data()).get(UPLOAD_UNTIL)
    try:
        return isinstance(until, str) and clock.now() < dt.datetime.fromisoformat(until)
    except ValueError:
        return False


async def spend_start(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    recent = await recent_spend(uow, clock, actor, ZoneInfo(settings.timezone))
    await _open_upload_window(state, clock)
    text, markup = spend_screen(recent, book)
    await message.answer(text, reply_markup=markup)


async def spend_pick(
    query: CallbackQuery,
    callback_data: SpendPick,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    """The list of sources (source -1), one source's months (month 0), or a month picked:
    then the amount is asked."""
    recent = await recent_spend(uow, clock, actor, ZoneInfo(settings.timezone))
    index = callback_data.source
    if index == -1:
        await _open_upload_window(state, clock)
        await edit_screen(query, *spend_screen(recent, book))
        await query.answer()
        return
    month = month_from_key(callback_data.month)
    if not 0 <= index < len(book.sources) or (callback_data.month and month is None):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    if month is None:
        await _open_upload_window(state, clock)
        await edit_screen(query, *month_screen(recent, book, index))
        await query.answer()
        return
    source = book.sources[index]
    about = {"source": source.id, "month": month.isoformat()}
    if await asked_already(query, state, SpendInput.amount, about):
        return
    await enter_conversation(state, SpendInput.amount, about)
    await query.answer()
    if isinstance(query.message, Message):
        asked = await query.message.answer(
            t(
                "spend.ask_amount",
                name=source.name,
                month=month_name(month),
                currency=book.currency,
            )
        )
        await state.update_data(asked=asked.message_id)


async def spend_amount(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    try:
        amount = parse_spend(message.text or "")
    except InvalidSpend as error:
        await message.answer(t(f"spend.bad_amount.{error.reason}", limit=money(MAX_MONTHLY_SPEND)))
        return
    data = await state.get_data()
    try:
        entry = await enter_spend(
            uow,
            clock,
            book,
            actor,
            str(data.get("source", "")),
            dt.date.fromisoformat(str(data.get("month", ""))),
            amount,
        )
    except (UnknownSource, InvalidMonth, ValueError):
        # The book lost the source since the button was pressed, or the state is not ours.
        await end_conversation(state)
        await message.answer(t("spend.gone"))
        return
    await _open_upload_window(state, clock)
    saved = t(
        "spend.saved",
        name=source_name(book, entry.source_id),
        month=month_name(entry.month),
        amount=amount_text(entry.amount),
        currency=book.currency,
    )
    recent = await recent_spend(uow, clock, actor, ZoneInfo(settings.timezone))
    text, markup = spend_screen(recent, book)
    await message.answer(f"{saved}\n\n{text}", reply_markup=markup)


async def spend_file(
    message: Message,
    state: FSMContext,
    bot: Bot,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    """A .csv or .xlsx of `source, month, amount` rows, imported whole or not at all."""
    document = message.document
    if document is None:  # pragma: no cover - the filter lets documents only
        return
    may_enter_spend(actor)
    await _open_upload_window(state, clock)
    kind = table_kind(document.file_name)
    if kind is None:
        await message.answer(t("spend.file_kind"))
        return
    too_big = t("spend.file_too_big", limit=MAX_SPEND_FILE_BYTES // 1000)
    if document.file_size is not None and document.file_size > MAX_SPEND_FILE_BYTES:
        await message.answer(too_big)
        return
    data = await _download(bot, document)
    if len(data) > MAX_SPEND_FILE_BYTES:
        await message.answer(too_big)
        return
    try:
        rows = await read_table(kind, data)
        count = await import_spend(uow, clock, book, actor, rows)
    except UnreadableTable:
        await message.answer(t("spend.file_unreadable", kind=kind))
        return
    except SpendTableTooLong as error:
        await message.answer(t("spend.file_too_long", limit=error.limit))
        return
    except SpendTableEmpty:
        await message.answer(t("spend.file_empty"))
        return
    except SpendTableInvalid as error:
        await message.answer(_problems_text(error.problems, book))
        return
    recent = await recent_spend(uow, clock, actor, ZoneInfo(settings.timezone))
    text, markup = spend_screen(recent, book)
    await message.answer(f"{t('spend.imported', count=count)}\n\n{text}", reply_markup=markup)


async def spend_file_after_screen(
    message: Message,
    state: FSMContext,
    raw_state: str | None,
    bot: Bot,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    """A file without the caption: an upload while the amount is asked or soon after the /spend
    screen; anything else is left to the handlers after this one."""
    if raw_state is None and not await _upload_window_open(state, clock):
        raise SkipHandler
    await spend_file(message, state, bot, actor, uow, clock, book, settings)


async def _download(bot: Bot, document: Document) -> bytes:
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    return buffer.getvalue()


def _problems_text(problems: list[RowProblem], book: SalesBook) -> str:
    lines = [t("spend.file_invalid", count=len(problems))]
    for problem in problems[:PROBLEMS_SHOWN]:
        lines.append(
            t(
                f"spend.row.{problem.reason}",
                row=problem.row,
                value=problem.value[:60],
                sources=", ".join(source.id for source in book.sources),
            )
        )
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(t("list.more", count=len(problems) - PROBLEMS_SHOWN))
    lines.append(t("spend.file_format"))
    return join_within_limit(lines, "list.more")


async def spend_amount_too_soon(message: Message, state: FSMContext, clock: Clock) -> None:
    """An amount typed soon after the /spend screen, before a source and a month were picked:
    anything else is left to the handlers after this one (a reminder, the fallback)."""
    if not await _upload_window_open(state, clock):
        raise SkipHandler
    try:
        parse_spend(message.text or "")
    except InvalidSpend:
        raise SkipHandler from None
    await message.answer(t("spend.pick_first"))


async def spend_not_text(message: Message) -> None:
    """Neither an amount nor a file while the amount is asked."""
    await message.answer(t("spend.menu_hint"))


async def report_sources(
    query: CallbackQuery,
    callback_data: ReportSources,
    actor: Actor,
    uow: UnitOfWork,
    book: SalesBook,
    settings: Settings,
) -> None:
    """Under a team report: the unit economics per lead source for the report's period."""
    try:
        period = Period(
            dt.datetime.fromtimestamp(callback_data.start, dt.UTC),
            dt.datetime.fromtimestamp(callback_data.end, dt.UTC),
        )
    except (ValueError, OverflowError, OSError):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    report = await source_economics(uow, book, actor, period, ZoneInfo(settings.timezone))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(economics_text(report, book))


def create_router() -> Router:
    router = Router(name="unit economics")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    # A file captioned /spend is an upload from any dialogue; registered before the bare
    # command, which a caption matches too.
    router.message.register(spend_file, Command("spend"), F.document, StateFilter("*"))
    router.message.register(spend_start, Command("spend"), StateFilter("*"))
    router.message.register(
        spend_file_after_screen,
        F.document,
        ~F.reply_to_message,
        StateFilter(None, SpendInput.amount),
    )
    router.message.register(spend_amount, SpendInput.amount, F.text)
    router.message.register(spend_amount_too_soon, F.text, ~F.reply_to_message, StateFilter(None))
    router.message.register(spend_not_text, SpendInput.amount, ~F.text)
    router.callback_query.register(spend_pick, SpendPick.filter())
    router.callback_query.register(report_sources, ReportSources.filter(), flags=ONE_PER_TAP)
    return router
