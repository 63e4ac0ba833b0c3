"""/deals and the deal card: the manager's "what do I do now", from a phone.

The card edits itself in place. Every button re-checks in the service that the deal is the
person's to see or change: callback data comes from the client and can be forged.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import CardAction, DealCard, DealsPage
from bot.deal_screens import (
    back_screen,
    card_screen,
    checklist_screen,
    edit_screen,
    lost_screen,
    question_screen,
    urgency_text,
)
from bot.filters import STAFF_ROLES, HasRole
from bot.fsm_storage import end_conversation
from bot.handlers.scripts import stage_scripts
from bot.i18n import join_within_limit, t, tp
from config.settings import Settings
from domain.clock import Clock
from domain.deal import MAX_COMMENT_LENGTH, parse_amount
from domain.errors import (
    CommentRequired,
    DealClosed,
    DomainError,
    ExitCriteriaNotMet,
    InvalidAmount,
    PermissionDenied,
)
from domain.qualification import QualificationLevel
from domain.roles import Action, Role, can
from domain.sales_book import SalesBook
from domain.scripts import ScriptLibrary
from domain.working_time import WorkingCalendar
from services.deals import (
    DealNotFound,
    advance_deal,
    expect_amount,
    lose_deal,
    move_deal_back,
    reopen_deal,
    win_deal,
)
from services.qualification import answer, current_step
from services.staff import Actor
from services.workspace import ActivityKind, criteria_done, log_activity, open_deals, view_deal
from storage.unit_of_work import UnitOfWork


class CardInput(StatesGroup):
    back_comment = State()
    activity_comment = State()
    won_amount = State()
    expected_amount = State()
    lost_comment = State()
    override_comment = State()
    reopen_comment = State()
    qualification_comment = State()
    """A question is on screen; typed text becomes the comment of the answer about to be
    tapped."""


# --- the list ---------------------------------------------------------------------------------


async def deals_command(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    text, markup = await _deals_screen(uow, clock, book, calendar, settings, actor, DealsPage())
    await message.answer(text, reply_markup=markup)


async def deals_page(
    query: CallbackQuery,
    callback_data: DealsPage,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    if callback_data.stage and callback_data.stage not in _stage_ids(book):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    if callback_data.pick == "s":
        text, markup = _stage_picker(book, callback_data)
    elif callback_data.pick == "m" and can(actor.role, Action.VIEW_ALL_DEALS):
        text, markup = await _manager_picker(uow, callback_data)
    else:
        text, markup = await _deals_screen(
            uow, clock, book, calendar, settings, actor, callback_data
        )
    await edit_screen(query, text, markup)
    await query.answer()


def _stage_picker(book: SalesBook, view: DealsPage) -> tuple[str, InlineKeyboardMarkup]:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("deals.every_stage"),
        callback_data=view.model_copy(update={"stage": "", "pick": ""}),
    )
    seen: set[str] = set()
    for pipeline in book.pipelines:
        for stage in pipeline.stages:
            if stage.id not in seen:
                seen.add(stage.id)
                keyboard.button(
                    text=stage.name,
                    callback_data=view.model_copy(
                        update={"stage": stage.id, "pick": "", "page": 0}
                    ),
                )
    keyboard.adjust(2)
    return t("deals.pick_stage"), keyboard.as_markup()


async def _manager_picker(uow: UnitOfWork, view: DealsPage) -> tuple[str, InlineKeyboardMarkup]:
    async with uow:
        managers = await uow.staff.active_with_role(Role.MANAGER)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("deals.every_manager"),
        callback_data=view.model_copy(update={"manager": 0, "pick": ""}),
    )
    for member in managers:
        keyboard.button(
            text=member.first_name or str(member.telegram_id),
            callback_data=view.model_copy(
                update={"manager": member.telegram_id, "pick": "", "page": 0}
            ),
        )
    keyboard.adjust(2)
    return t("deals.pick_manager"), keyboard.as_markup()


async def _deals_screen(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    actor: Actor,
    view: DealsPage,
) -> tuple[str, InlineKeyboardMarkup]:
    page = await open_deals(
        uow,
        clock,
        book,
        calendar,
        actor,
        page=view.page,
        stage_id=view.stage or None,
        overdue_only=view.overdue,
        manager_id=view.manager or None,
    )
    zone = ZoneInfo(settings.timezone)
    title = t("deals.title", total=page.total, page=page.page + 1, pages=page.pages)
    if not page.lines:
        title += "\n\n" + t("deals.empty")
    lines = [title]
    keyboard = InlineKeyboardBuilder()
    for line in page.lines:
        deal = line.urgency.deal
        assert deal.id is not None
        stage = book.pipeline(deal.pipeline_id).stage(deal.stage_id).name
        lines.append(
            t(
                "deals.line",
                deal_id=deal.id,
                client=line.client,
                stage=stage,
                when=urgency_text(line.urgency, zone),
            )
        )
        keyboard.button(
            text=tp("deals.open_button", deal_id=deal.id, client=line.client[:24]),
            callback_data=DealCard(deal_id=deal.id),
        )
    keyboard.adjust(2)
    navigation = InlineKeyboardBuilder()
    if page.page > 0:
        navigation.button(text="◀️", callback_data=view.model_copy(update={"page": page.page - 1}))
    if page.page + 1 < page.pages:
        navigation.button(text="▶️", callback_data=view.model_copy(update={"page": page.page + 1}))
    navigation.button(
        text=tp("deals.all_button") if view.overdue else tp("deals.overdue_button"),
        callback_data=view.model_copy(update={"overdue": not view.overdue, "page": 0}),
    )
    navigation.button(
        text=tp("deals.stage_button"), callback_data=view.model_copy(update={"pick": "s"})
    )
    if can(actor.role, Action.VIEW_ALL_DEALS):
        navigation.button(
            text=tp("deals.manager_button"),
            callback_data=view.model_copy(update={"pick": "m"}),
        )
    keyboard.attach(navigation)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


# --- the card ---------------------------------------------------------------------------------


async def deal_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    """`/deal 123`: any deal by its number, closed ones included (which is how a supervisor
    reaches a deal to reopen it)."""
    number = (command.args or "").strip().lstrip("№#")
    if not number.isdigit() or len(number) > 12:
        await message.answer(t("deal.ask_number"))
        return
    try:
        view = await view_deal(uow, clock, book, calendar, actor, int(number))
    except DealNotFound:
        await message.answer(t("deal.not_found", deal_id=number))
        return
    except PermissionDenied:
        await message.answer(t("deal.unavailable_plain"))
        return
    text, markup = card_screen(view, book, settings, actor.role)
    await message.answer(text, reply_markup=markup)


async def card(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
    scripts: ScriptLibrary,
) -> None:
    action = callback_data.action
    deal_id = callback_data.deal_id
    try:
        view = await view_deal(uow, clock, book, calendar, actor, deal_id)
        if action is CardAction.VIEW:
            await end_conversation(state)
            await edit_screen(query, *card_screen(view, book, settings, actor.role))
            await query.answer()
        elif action in (CardAction.ADVANCE, CardAction.TICK):
            mask = callback_data.ticked
            if action is CardAction.ADVANCE:  # first opened: what the deal's history has done
                mask |= await criteria_done(uow, book, actor, deal_id)
            checklist = checklist_screen(view, book, mask, actor.role)
            await edit_screen(query, *checklist)
            await query.answer()
        elif action is CardAction.CONFIRM_ADVANCE:
            ticked = _bits(callback_data.ticked)
            await advance_deal(uow, clock, book, calendar, actor, deal_id, ticked)
            view = await view_deal(uow, clock, book, calendar, actor, deal_id)
            await edit_screen(query, *card_screen(view, book, settings, actor.role))
            await query.answer(tp("card.moved"))
        elif action is CardAction.OVERRIDE and can(actor.role, Action.OVERRIDE_EXIT_CRITERIA):
            await _ask(
                query,
                state,
                CardInput.override_comment,
                deal_id,
                t("card.ask_override_comment"),
                arg=str(callback_data.ticked),
            )
        elif action is CardAction.REOPEN and can(actor.role, Action.REOPEN_DEAL):
            await _ask(
                query, state, CardInput.reopen_comment, deal_id, t("card.ask_reopen_comment")
            )
        elif action is CardAction.BACK:
            await edit_screen(query, *back_screen(view, book))
            await query.answer()
        elif action is CardAction.BACK_TO:
            await _ask(
                query,
                state,
                CardInput.back_comment,
                deal_id,
                t("card.ask_back_comment"),
                arg=callback_data.arg,
            )
        elif action is CardAction.ACTIVITY:
            kind = ActivityKind(callback_data.arg)
            await _ask(
                query,
                state,
                CardInput.activity_comment,
                deal_id,
                t("card.ask_activity_comment", kind=t(f"activity.{kind.value}")),
                arg=kind.value,
                skip=True,
            )
        elif action is CardAction.WON:
            await _ask(
                query,
                state,
                CardInput.won_amount,
                deal_id,
                t("card.ask_amount", currency=book.currency),
            )
        elif action is CardAction.AMOUNT:
            await _ask(
                query,
                state,
                CardInput.expected_amount,
                deal_id,
                t("card.ask_expected_amount", currency=book.currency),
            )
        elif action is CardAction.LOST:
            await edit_screen(query, *lost_screen(view, book))
            await query.answer()
        elif action is CardAction.SCRIPTS:
            await stage_scripts(query, deal_id, actor, uow, book, scripts)
        elif action is CardAction.QUALIFY:
            await _qualify(query, callback_data, state, actor, uow, clock, book, calendar, settings)
        elif action is CardAction.LOST_REASON:
            book.lost_reason(callback_data.arg)
            await _ask(
                query,
                state,
                CardInput.lost_comment,
                deal_id,
                t("card.ask_lost_comment"),
                arg=callback_data.arg,
                skip=True,
            )
        else:  # a supervisor's button pressed by someone who is not one (forged or stale)
            await query.answer(tp("error.forbidden"), show_alert=True)
    except (DealNotFound, KeyError, ValueError):
        await query.answer(tp("error.stale_button"), show_alert=True)
    except PermissionDenied:
        await query.answer(tp("deal.not_yours"), show_alert=True)
    except DealClosed:
        await query.answer(tp("card.closed"), show_alert=True)
    except ExitCriteriaNotMet as error:
        await query.answer(tp("card.criteria_missing", count=len(error.missing)), show_alert=True)


async def _qualify(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    deal_id = callback_data.deal_id
    if callback_data.arg:
        question_id, _, option = callback_data.arg.rpartition(".")
        comment = await _typed_comment(state, deal_id, question_id)
        step = await answer(uow, clock, book, actor, deal_id, question_id, int(option), comment)
    else:
        step = await current_step(uow, book, actor, deal_id)
    if step.question is not None:
        await _await_comment(state, deal_id, step.question.id)
        await edit_screen(query, *question_screen(deal_id, step))
        await query.answer()
        return
    await end_conversation(state)
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    level = step.result.level
    if level is QualificationLevel.DISQUALIFIED and view.deal.is_open:
        text, markup = lost_screen(view, book, suggested=step.lost_reason)
        await edit_screen(query, t("qualification.disqualified") + "\n\n" + text, markup)
    else:
        await edit_screen(query, *card_screen(view, book, settings, actor.role))
    await query.answer(
        tp(
            "qualification.result",
            level=(level.value if level else "").upper(),
            points=step.result.points,
            max_points=step.result.max_points,
        ),
        show_alert=True,
    )


async def _await_comment(state: FSMContext, deal_id: int, question_id: str) -> None:
    await state.set_state(CardInput.qualification_comment)
    await state.set_data({"deal_id": deal_id, "arg": question_id})


async def _typed_comment(state: FSMContext, deal_id: int, question_id: str) -> str | None:
    """The comment typed while this question was on screen (None if none, or if the screen is
    an old one for another question)."""
    if await state.get_state() != CardInput.qualification_comment.state:
        return None
    data = await state.get_data()
    if data.get("deal_id") != deal_id or data.get("arg") != question_id:
        return None
    comment = data.get("comment")
    return comment if isinstance(comment, str) else None


async def _typed_text(message: Message) -> str | None:
    """What the person typed, stripped ("" for blank); None, after saying why, for something
    that is not text or is too long to keep."""
    if message.text is None:
        await message.answer(t("input.text_expected"))
        return None
    text = message.text.strip()
    if len(text) > MAX_COMMENT_LENGTH:
        await message.answer(t("input.too_long", limit=MAX_COMMENT_LENGTH))
        return None
    return text


async def qualification_comment(
    message: Message, state: FSMContext, actor: Actor, uow: UnitOfWork, book: SalesBook
) -> None:
    """Text typed while a question is on screen: keep it for the answer and show the question
    again, below the text, with the comment on it."""
    text = await _typed_text(message)
    if text is None:
        return
    data = await state.get_data()
    deal_id: int = data["deal_id"]
    try:
        step = await current_step(uow, book, actor, deal_id)
    except (DealNotFound, PermissionDenied):
        await end_conversation(state)
        await message.answer(t("deal.unavailable_plain"))
        return
    if step.question is None or step.question.id != data.get("arg"):
        await end_conversation(state)
        await message.answer(t("error.stale_button"))
        return
    await state.update_data(comment=text or None)
    screen, markup = question_screen(deal_id, step, comment=text or None)
    await message.answer(screen, reply_markup=markup)


async def card_input(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    text = await _typed_text(message)
    if text is None:
        return
    problem = await _complete_input(state, actor, uow, clock, book, calendar, text or None)
    if problem is not None:
        await message.answer(t(problem, currency=book.currency))
        return
    deal_id = (await state.get_data())["deal_id"]
    await end_conversation(state)
    view = await view_deal(uow, clock, book, calendar, actor, deal_id)
    text_out, markup = card_screen(view, book, settings, actor.role)
    await message.answer(text_out, reply_markup=markup)


async def skip_comment(
    query: CallbackQuery,
    callback_data: DealCard,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    settings: Settings,
) -> None:
    """ "No comment" on an activity or a loss: do it without one."""
    data = await state.get_data()
    if data.get("deal_id") != callback_data.deal_id or await state.get_state() not in (
        CardInput.activity_comment.state,
        CardInput.lost_comment.state,
    ):
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    problem = await _complete_input(state, actor, uow, clock, book, calendar, None)
    if problem is not None:
        await query.answer(tp(problem), show_alert=True)
        return
    await end_conversation(state)
    view = await view_deal(uow, clock, book, calendar, actor, callback_data.deal_id)
    await edit_screen(query, *card_screen(view, book, settings, actor.role))
    await query.answer(tp("card.saved"))


async def _complete_input(
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    text: str | None,
) -> str | None:
    """Carry out what the card asked the person to type (None: no comment). Returns the text
    key of what is wrong; the conversation ends unless the person can simply try again."""
    current = await state.get_state()
    data = await state.get_data()
    deal_id: int = data["deal_id"]
    arg: str = data.get("arg", "")
    try:
        if current == CardInput.back_comment.state:
            await move_deal_back(uow, clock, book, calendar, actor, deal_id, arg, text)
        elif current == CardInput.activity_comment.state:
            await log_activity(uow, clock, actor, deal_id, ActivityKind(arg), text)
        elif current == CardInput.won_amount.state:
            await win_deal(uow, clock, book, actor, deal_id, parse_amount(text or ""))
        elif current == CardInput.expected_amount.state:
            await expect_amount(uow, book, actor, deal_id, parse_amount(text or ""))
        elif current == CardInput.lost_comment.state:
            await lose_deal(uow, clock, book, actor, deal_id, arg, text)
        elif current == CardInput.override_comment.state:
            ticked = _bits(int(arg))
            await advance_deal(
                uow, clock, book, calendar, actor, deal_id, ticked, override=True, comment=text
            )
        elif current == CardInput.reopen_comment.state:
            await reopen_deal(uow, clock, book, calendar, actor, deal_id, text)
    except InvalidAmount:
        return "card.bad_amount"
    except CommentRequired:
        return "card.comment_required"
    except (DealNotFound, PermissionDenied, DealClosed):
        await end_conversation(state)
        return "deal.unavailable_plain"
    except DomainError:
        await end_conversation(state)
        return "error.stale_button"
    return None


async def _ask(
    query: CallbackQuery,
    state: FSMContext,
    step: State,
    deal_id: int,
    question: str,
    *,
    arg: str = "",
    skip: bool = False,
) -> None:
    await state.set_state(step)
    await state.set_data({"deal_id": deal_id, "arg": arg})
    await query.answer()
    keyboard = InlineKeyboardBuilder()
    if skip:
        keyboard.button(text=tp("card.skip_comment"), callback_data=_skip_data(deal_id))
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal_id))
    keyboard.adjust(1)
    if isinstance(query.message, Message):
        await query.message.answer(question, reply_markup=keyboard.as_markup())


def _skip_data(deal_id: int) -> str:
    return DealCard(deal_id=deal_id, action=CardAction.VIEW, arg="skip").pack()


def _bits(mask: int) -> list[int]:
    return [index for index in range(mask.bit_length()) if mask & (1 << index)]


def _stage_ids(book: SalesBook) -> set[str]:
    return {stage.id for pipeline in book.pipelines for stage in pipeline.stages}


def create_router() -> Router:
    router = Router(name="deals")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(deals_command, Command("deals"), StateFilter("*"))
    router.callback_query.register(deals_page, DealsPage.filter())
    router.callback_query.register(
        skip_comment, DealCard.filter((F.action == CardAction.VIEW) & (F.arg == "skip"))
    )
    router.callback_query.register(card, DealCard.filter())
    router.message.register(deal_command, Command("deal"), StateFilter("*"))
    router.message.register(qualification_comment, CardInput.qualification_comment)
    router.message.register(card_input, StateFilter(*CardInput.__all_states__))
    return router
