"""/digest (the morning digest, now) and /ab (the scripts' A/B results), for whoever may see
the team's figures."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.types import BufferedInputFile, Message

from bot.digest import caption, chart
from bot.filters import HasRole
from bot.i18n import join_within_limit, t
from bot.settings import Settings
from domain.abtest import Proportion
from domain.clock import Clock
from domain.kpi import Period
from domain.roles import Role
from domain.sales_book import SalesBook
from domain.scripts import ScriptLibrary
from services.digest import digest
from services.script_report import script_ab
from services.staff import Actor
from storage.unit_of_work import UnitOfWork

HISTORY_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


async def digest_now(
    message: Message,
    actor: Actor,
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    settings: Settings,
) -> None:
    figures = await digest(uow, clock, book, actor, ZoneInfo(settings.timezone))
    png = await chart(figures, book)
    await message.answer_photo(
        BufferedInputFile(png, filename="digest.png"), caption=caption(figures, book)
    )


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


def create_router() -> Router:
    router = Router(name="reports")
    router.message.filter(HasRole(Role.SUPERVISOR, Role.ADMIN))
    router.message.register(digest_now, Command("digest"), StateFilter("*"))
    router.message.register(script_results, Command("ab"), StateFilter("*"))
    return router
