"""A request that typed another client's phone: its card offers to merge the two clients. The
manager (or a supervisor) sees both chats first and confirms; nothing happens by itself."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.screens.in_place import edit_screen
from bot.telegram.callbacks import MergeStep, SamePhoneMerge
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.i18n import t, tp
from services.client_merge import (
    ClientChat,
    MergeProposal,
    merge_clients,
    merge_proposal,
)
from services.staff import Actor
from storage.unit_of_work import UnitOfWork


async def merge_button(
    query: CallbackQuery, callback_data: SamePhoneMerge, actor: Actor, uow: UnitOfWork
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    deal_id = callback_data.deal_id
    if callback_data.step is MergeStep.KEEP:
        await query.answer()
        await edit_screen(query, t("merge.kept"), None)
        return
    if callback_data.step is MergeStep.ASK:
        proposal = await merge_proposal(uow, actor, deal_id)
    else:
        proposal = await merge_clients(uow, actor, deal_id)
    await query.answer()
    if message is None:
        return
    if callback_data.step is MergeStep.ASK:
        await message.answer(_proposal_text(proposal), reply_markup=_confirm_keyboard(deal_id))
    else:
        await edit_screen(
            query,
            t("merge.done", deal_id=proposal.joining.deal_id, kept_id=proposal.kept.deal_id),
            None,
        )


def _proposal_text(proposal: MergeProposal) -> str:
    return "\n".join(
        [
            t("merge.ask", deal_id=proposal.joining.deal_id, kept_id=proposal.kept.deal_id),
            _chat_line(proposal.kept),
            _chat_line(proposal.joining),
            t("merge.explain"),
        ]
    )


def _chat_line(side: ClientChat) -> str:
    account = (
        t("merge.account_username", username=side.username, chat_id=side.chat_id)
        if side.username
        else t("merge.account_id", chat_id=side.chat_id or "—")
    )
    return t("merge.side", deal_id=side.deal_id, name=side.name or "—", account=account)


def _confirm_keyboard(deal_id: int) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=tp("merge.confirm"),
        callback_data=SamePhoneMerge(deal_id=deal_id, step=MergeStep.CONFIRM),
    )
    keyboard.button(
        text=tp("merge.cancel"), callback_data=SamePhoneMerge(deal_id=deal_id, step=MergeStep.KEEP)
    )
    keyboard.adjust(1)
    return keyboard.as_markup()


def create_router() -> Router:
    router = Router(name="same_phone")
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.callback_query.register(merge_button, SamePhoneMerge.filter(F.step.in_(set(MergeStep))))
    return router
