"""The commercial proposal from the deal card: ask only the figures the deal is missing, show the
manager the PDF, and on their word send it to the client through the chat and log it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.handlers.errors import StaleButton
from bot.renderers.proposal_pdf import ProposalDocument, render_proposal
from bot.screens.deal_screens import cancel_to_card
from bot.screens.in_place import has_buttons, remember_edit, retire_question
from bot.telegram.callbacks import ProposalAction, ProposalStep
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.fsm_storage import asked_already, end_conversation, enter_conversation
from bot.telegram.i18n import money, t, t_in, tp
from bot.telegram.repeated_presses import ONE_PER_TAP
from config.settings import Settings
from domain.clock import Clock
from domain.errors import InvalidProposalInput
from domain.proposal import INPUTS
from domain.sales_book import SalesBook
from services.leads import DealUnavailable, writable_deal
from services.proposals import (
    NoProposalTemplate,
    ProposalDraft,
    enter_figure,
    forget_figures,
    proposal_draft,
    proposal_sent,
)
from services.staff import Actor
from storage.unit_of_work import UnitOfWork


class ProposalInput(StatesGroup):
    figure = State()
    """A figure of the economic effect is asked; data: deal_id, input_id."""


async def proposal_action(
    query: CallbackQuery,
    callback_data: ProposalAction,
    state: FSMContext,
    bot: Bot,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    deal_id = callback_data.deal_id
    message = query.message if isinstance(query.message, Message) else None
    try:
        if callback_data.step is ProposalStep.SEND:
            if message is None or message.document is None:  # not a preview: forged
                await writable_deal(uow, actor, deal_id)  # a colleague's deal is said to be so
                raise StaleButton(callback_data.pack())
            if not has_buttons(message):  # its buttons went with the first tap's sending
                await query.answer(tp("proposal.sent"))
                return
            await _send_to_client(query, message, deal_id, bot, actor, uow, clock, book, settings)
            return
        if callback_data.step is ProposalStep.OPEN and await asked_already(
            query, state, ProposalInput.figure, {"deal_id": deal_id}
        ):
            return
        if callback_data.step is ProposalStep.REDO:
            draft = await forget_figures(uow, book, actor, deal_id)
        else:
            draft = await proposal_draft(uow, book, actor, deal_id)
    except NoProposalTemplate:
        await query.answer(tp("proposal.no_template"), show_alert=True)
        return
    await query.answer()
    if message is not None:
        await _next(message, state, draft, clock, book, settings)


async def figure_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    data = await state.get_data()
    deal_id: int = data["deal_id"]
    input_id: str = data["input_id"]
    try:
        draft = await enter_figure(uow, clock, book, actor, deal_id, input_id, message.text or "")
    except InvalidProposalInput as bad:
        await message.answer(
            t(f"proposal.bad.{bad.reason}", min=_figure(bad.minimum), max=_figure(bad.maximum))
        )
        return
    except NoProposalTemplate:  # the book lost the template since the figures were asked
        await end_conversation(state)
        await message.answer(t("deal.unavailable_plain"))
        return
    await retire_question(message, data.get("asked"))  # answered: its "Отмена" is stale
    await _next(message, state, draft, clock, book, settings)


async def _next(
    message: Message,
    state: FSMContext,
    draft: ProposalDraft,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    """Ask the next missing figure, or show the manager the finished PDF."""
    deal_id = draft.deal.id
    assert deal_id is not None
    if draft.missing:
        await _ask_figure(message, state, draft, deal_id, book)
        return
    await end_conversation(state)
    document = ProposalDocument.for_deal(
        book,
        draft.template,
        draft.figures,
        client_name=draft.client_name,
        client_company=draft.client_company,
        deal_number=deal_id,
        manager_name=draft.manager_name,
        date=clock.now().astimezone(ZoneInfo(settings.timezone)).date(),
    )
    pdf = await asyncio.to_thread(render_proposal, document, settings.default_locale)
    effect = document.effect
    await message.answer_document(
        BufferedInputFile(pdf, filename=f"proposal_{deal_id}.pdf"),
        caption=t(
            "proposal.preview",
            deal_id=deal_id,
            client=draft.client_name,
            annual=money(effect.annual_saving),
            payback=_figure(effect.payback_months) if effect.payback_months else "—",
            currency=book.currency,
        ),
        reply_markup=_preview_keyboard(deal_id),
    )


async def _ask_figure(
    message: Message, state: FSMContext, draft: ProposalDraft, deal_id: int, book: SalesBook
) -> None:
    input_id = draft.missing[0]
    bounds = draft.template.effect.bounds(input_id)
    await enter_conversation(
        state, ProposalInput.figure, {"deal_id": deal_id, "input_id": input_id}
    )
    asked = await message.answer(
        t(
            f"proposal.ask.{input_id}",
            deal_id=deal_id,
            number=INPUTS.index(input_id) + 1,
            total=len(INPUTS),
            min=_figure(bounds.min),
            max=_figure(bounds.max),
            currency=book.currency,
        ),
        reply_markup=cancel_to_card(deal_id),
    )
    await state.update_data(asked=asked.message_id)


async def _send_to_client(
    query: CallbackQuery,
    preview: Message,
    deal_id: int,
    bot: Bot,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    """The previewed file itself goes to the client (by its file id: what the manager saw is
    what the client gets)."""
    assert preview.document is not None
    try:
        lead_chat = await writable_deal(uow, actor, deal_id)
    except DealUnavailable:
        await query.answer(tp("proposal.no_client"), show_alert=True)
        return
    caption = t_in(settings.default_locale, "proposal.to_client", company=book.company)
    try:
        await bot.send_document(lead_chat, preview.document.file_id, caption=caption)
    except TelegramForbiddenError:
        await query.answer(tp("proposal.client_blocked"), show_alert=True)
        return
    comment = tp("proposal.activity", summary=preview.caption or "")
    await proposal_sent(uow, clock, actor, deal_id, comment, caption)
    await query.answer(tp("proposal.sent"))
    remember_edit(await preview.edit_caption(caption=t("proposal.sent_caption", deal_id=deal_id)))


def _preview_keyboard(deal_id: int) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("proposal.send"),
        callback_data=ProposalAction(deal_id=deal_id, step=ProposalStep.SEND),
    )
    keyboard.button(
        text=tp("proposal.redo"),
        callback_data=ProposalAction(deal_id=deal_id, step=ProposalStep.REDO),
    )
    keyboard.adjust(1)
    return keyboard.as_markup()


def _figure(value: Decimal) -> str:
    """A typed figure as people write it: "12", "2,5", "1 500"."""
    text = f"{value:,f}".replace(",", " ")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def create_router() -> Router:
    router = Router(name="proposals")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    # Opening shows the PDF once every figure is known: a double tap would render it twice.
    opening = ProposalAction.filter(F.step == ProposalStep.OPEN)
    router.callback_query.register(proposal_action, opening, flags=ONE_PER_TAP)
    router.callback_query.register(proposal_action, ProposalAction.filter())
    router.message.register(figure_typed, ProposalInput.figure, F.text)
    return router
