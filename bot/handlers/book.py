"""/book: the sales book at a manager's fingertips: pipelines, stages, SLAs, exit criteria."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import BookPipeline
from bot.telegram.filters import STAFF_ROLES, HasRole
from bot.telegram.i18n import join_within_limit, t, tp
from domain.sales_book import Pipeline, SalesBook


async def show_book(message: Message, book: SalesBook) -> None:
    keyboard = InlineKeyboardBuilder()
    for pipeline in book.pipelines:
        keyboard.button(text=pipeline.name, callback_data=BookPipeline(pipeline_id=pipeline.id))
    keyboard.adjust(1)
    lines = [t("book.title", company=book.company)]
    lines += [
        t("book.pipeline_line", name=p.name, stages=len(p.stages), key=p.stage(p.key_stage).name)
        for p in book.pipelines
    ]
    lines.append(t("book.first_response", minutes=book.first_response_minutes))
    await message.answer(join_within_limit(lines, "list.more"), reply_markup=keyboard.as_markup())


async def show_pipeline(query: CallbackQuery, callback_data: BookPipeline, book: SalesBook) -> None:
    try:
        pipeline = book.pipeline(callback_data.pipeline_id)
    except KeyError:
        await query.answer(tp("error.stale_button"), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_pipeline_text(pipeline))


def _pipeline_text(pipeline: Pipeline) -> str:
    lines = [t("book.pipeline_title", name=pipeline.name)]
    for number, stage in enumerate(pipeline.stages, start=1):
        lines.append(
            t(
                "book.stage",
                number=number,
                name=stage.name,
                key_mark=t("book.key_mark") if stage.id == pipeline.key_stage else "",
                sla=f"{stage.sla_hours:g}",
                conversion=round(stage.target_conversion * 100),
                probability=round(stage.probability * 100),
            )
        )
        lines += [t("book.criterion", text=criterion) for criterion in stage.exit_criteria]
    return join_within_limit(lines, "list.more")


def create_router() -> Router:
    router = Router(name="book")
    router.message.filter(HasRole(*STAFF_ROLES))
    router.callback_query.filter(HasRole(*STAFF_ROLES))
    router.message.register(show_book, Command("book"), StateFilter("*"))
    router.callback_query.register(show_pipeline, BookPipeline.filter())
    return router
