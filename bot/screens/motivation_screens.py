"""/my as Telegram shows it: a person's month in money and their day in activities, and for a
supervisor the team's table with the payroll estimate."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import MyPerson
from bot.telegram.i18n import join_within_limit, money, percent, t, tp
from domain.motivation import ActivityProgress, Earnings
from domain.roles import Role
from domain.sales_book import SalesBook
from services.motivation import PersonMonth, TeamMonth

KIND_ICONS = {"call": "📞", "meeting": "🤝", "note": "📝", "proposal": "📄", "chat": "💬"}


def person_screen(person: PersonMonth, book: SalesBook, own: bool) -> str:
    lines = [t("my.title_own" if own else "my.title", name=person.name)]
    pay = person.earnings
    if pay is None:
        lines.append(t("my.no_scheme"))
    else:
        lines += earnings_lines(pay, person.won_deals, book)
    if person.today is not None:
        lines.append(t("my.today", progress=progress_line(person.today)))
    return join_within_limit(lines, "list.more")


def earnings_lines(pay: Earnings, won_deals: int, book: SalesBook) -> list[str]:
    currency = book.currency
    lines = [
        t(
            "my.plan",
            plan=money(pay.plan) if pay.plan else "—",
            revenue=money(pay.revenue),
            share=_percent(pay.fulfilment),
            deals=won_deals,
            currency=currency,
        ),
        t(
            "my.pay",
            fixed=money(pay.fixed),
            commission=money(pay.commission),
            bonus=money(pay.bonus),
            total=money(pay.total),
            currency=currency,
        ),
    ]
    if pay.next_step is not None and pay.to_next_step is not None:
        lines.append(
            t(
                "my.next_step",
                bonus=money(pay.next_step.amount),
                share=_percent(pay.next_step.at),
                left=money(pay.to_next_step),
                currency=currency,
            )
        )
    if pay.one_more_deal is not None:
        lines.append(t("my.one_more", adds=money(pay.one_more_deal), currency=currency))
    return lines


def team_screen(team: TeamMonth, book: SalesBook) -> tuple[str, InlineKeyboardMarkup]:
    lines = [t("my.team_title")]
    keyboard = InlineKeyboardBuilder()
    for person in team.people:
        pay = person.earnings
        figures = (
            t(
                "my.team_row_pay",
                revenue=money(pay.revenue),
                plan=money(pay.plan) if pay.plan else "—",
                share=_percent(pay.fulfilment),
                total=money(pay.total),
                currency=book.currency,
            )
            if pay
            else t("my.no_scheme")
        )
        today = f" · {progress_line(person.today)}" if person.today else ""
        role = "" if person.role is Role.MANAGER else t("my.supervisor_mark")
        lines.append(t("my.team_row", name=person.name, role=role, figures=figures) + today)
        if person.role is Role.MANAGER:
            keyboard.button(
                text=f"👤 {person.name}"[:64], callback_data=MyPerson(staff_id=person.staff_id)
            )
    if not team.people:
        lines.append(t("my.team_empty"))
    lines.append(t("my.payroll", total=money(team.payroll), currency=book.currency))
    keyboard.adjust(2)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def progress_line(progress: ActivityProgress) -> str:
    """ "📞 12/15 · 🤝 2/2 ✅ · 📄 0/1": each target kind, done against the target."""
    parts = []
    for kind, target in progress.targets.items():
        done = progress.done.get(kind, 0)
        mark = " ✅" if done >= target else ""
        parts.append(f"{KIND_ICONS.get(kind, '')} {tp(f'progress.{kind}')} {done}/{target}{mark}")
    return " · ".join(parts)


def progress_parts(missing: Mapping[str, int]) -> str:
    """What is left to do today, as the nudge says it: "📞 звонки: ещё 3, 📄 КП: ещё 1"."""
    return ", ".join(
        f"{KIND_ICONS.get(kind, '')} {tp(f'progress.{kind}')}: {tp('progress.more', count=count)}"
        for kind, count in missing.items()
    )


def missing_compact(missing: Mapping[str, int]) -> str:
    """What is left as the digest says it, for several people in one line: "📞−3 📄−1"."""
    return " ".join(f"{KIND_ICONS.get(kind, kind)}−{count}" for kind, count in missing.items())


def _percent(share: Decimal | None) -> str:
    return "—" if share is None else percent(share)
