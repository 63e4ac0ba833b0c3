"""The deal screens: the card, its checklist, back and lost pickers, a qualification question,
the deal lists: text and buttons, in the current locale. The handlers decide which to show, and
show them with bot/screens/in_place.py's edits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.screens.business import chat_lines
from bot.screens.pages import paging_buttons
from bot.telegram.callbacks import (
    CardAction,
    DealAction,
    DealActionKind,
    DealCard,
    DealsPage,
    ProposalAction,
)
from bot.telegram.i18n import join_within_limit, money_exact, t, tp
from config.settings import Settings
from domain.deal import Deal
from domain.proposal import template_for
from domain.reminders import Audience, Reminder
from domain.roles import Action, Role, can
from domain.sales_book import SalesBook
from domain.urgency import Urgency
from services.qualification import QualificationStep
from services.staff import Actor, zone_of
from services.workspace import ActivityKind, DealPage, DealView

ACTIVITY_ICONS = {
    ActivityKind.CALL: "📞",
    ActivityKind.MEETING: "🤝",
    ActivityKind.NOTE: "📝",
    ActivityKind.PROPOSAL: "📄",
}
"""The activities a manager logs with the card's buttons."""
LOGGED_ICONS = {**{kind.value: icon for kind, icon in ACTIVITY_ICONS.items()}, "chat": "💬"}
"""Every activity the card lists: the buttons' ones, and the manager's own Telegram chat
(logged by itself, see services/business.py)."""


def question_screen(
    deal_id: int, step: QualificationStep, comment: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """One question with its answers as buttons; a comment typed before answering is shown and
    goes with the answer."""
    question = step.question
    assert question is not None
    keyboard = InlineKeyboardBuilder()
    for index, option in enumerate(question.options):
        keyboard.button(
            text=option.text,
            callback_data=DealCard(
                deal_id=deal_id, action=CardAction.QUALIFY, arg=f"{question.id}.{index}"
            ),
        )
    keyboard.button(text=tp("card.to_card"), callback_data=DealCard(deal_id=deal_id))
    keyboard.adjust(1)
    text = t(
        "qualification.question",
        framework=step.framework.name,
        number=step.result.answered + 1,
        total=step.result.total,
        question=question.text,
    )
    if comment:
        text += "\n\n" + t("qualification.comment", comment=comment)
    else:
        text += "\n\n" + t("qualification.comment_hint")
    return text, keyboard.as_markup()


def card_screen(
    view: DealView, book: SalesBook, settings: Settings, viewer: Actor
) -> tuple[str, InlineKeyboardMarkup]:
    """The deal's card as `viewer` sees it: the buttons of their role, the times in their zone."""
    deal = view.deal
    assert deal.id is not None
    pipeline = book.pipeline(deal.pipeline_id)
    stage = pipeline.stage(deal.stage_id)
    zone = zone_of(viewer, settings.timezone)
    role = viewer.role
    contact = view.contact
    lines = [
        t("dcard.title", deal_id=deal.id, client=(contact.name if contact else None) or "—"),
        t(
            "dcard.contact",
            phone=(contact.phone if contact else None) or "—",
            company=(contact.company if contact else None) or "—",
        ),
        t(
            "dcard.stage",
            pipeline=pipeline.name,
            stage=stage.name,
            number=pipeline.stage_index(stage.id) + 1,
            total=len(pipeline.stages),
        ),
    ]
    if view.manager_name is not None:  # a supervisor's card: whose deal it is
        lines.append(t("dcard.manager", name=view.manager_name or t("dcard.no_manager")))
    if view.training is not None:
        step = view.training.next_step
        lines.append(
            t("training.card_next", step=tp(f"training.do.{step}"))
            if step is not None
            else t("training.card_done")
        )
    if view.urgency is not None and view.urgency.is_first_response:
        when = urgency_text(view.urgency, zone)
        lines.append(t("dcard.first_response", when=when, minutes=book.first_response_minutes))
    elif view.urgency is not None:
        lines.append(
            t("dcard.deadline", when=urgency_text(view.urgency, zone), sla=f"{stage.sla_hours:g}")
        )
    else:
        lines += _closing_lines(deal, book, zone)
    if deal.qualification_level is not None:
        lines.append(
            t(
                "dcard.qualification",
                level=tp(f"qualification.level.{deal.qualification_level.value}"),
                points=deal.qualification_points or 0,
            )
        )
    snoozed = view.urgency is not None and deal.is_snoozed(view.urgency.now)
    if snoozed and deal.snoozed_until is not None:
        lines.append(
            t(
                "dcard.snoozed",
                until=deal.snoozed_until.astimezone(zone).strftime("%d.%m %H:%M"),
                reason=deal.snooze_reason or "",
            )
        )
    if view.next_reminder is not None:
        upcoming = view.next_reminder
        lines.append(
            t(
                "dcard.next_to_client" if to_client(upcoming) else "dcard.next_reminder",
                when=upcoming.due_at.astimezone(zone).strftime("%d.%m %H:%M"),
                what=upcoming.text or tp(f"reminder.kind.{upcoming.kind}"),
            )
        )
    if deal.amount is not None:
        lines.append(
            t(
                "dcard.expected_amount" if deal.is_open else "dcard.amount",
                amount=money_exact(deal.amount),
                currency=deal.currency or "",
            )
        )
    if view.activities:
        lines.append(t("dcard.activities"))
        for activity in view.activities:
            lines.append(
                t(
                    "dcard.activity",
                    icon=LOGGED_ICONS.get(activity.kind, "•"),
                    at=activity.at.astimezone(zone).strftime("%d.%m %H:%M"),
                    kind=t(f"activity.{activity.kind}"),
                    comment=activity.comment or "",
                ).rstrip()  # no comment: nothing after the kind
            )
    lines += chat_lines(view.chat, zone)
    keyboard = InlineKeyboardBuilder()
    if deal.is_open:
        if pipeline.stage_index(stage.id) + 1 < len(pipeline.stages):
            keyboard.button(
                text=tp("card.next_stage"),
                callback_data=DealCard(deal_id=deal.id, action=CardAction.ADVANCE),
            )
        if pipeline.stage_index(stage.id) > 0:
            keyboard.button(
                text=tp("card.back_stage"),
                callback_data=DealCard(deal_id=deal.id, action=CardAction.BACK),
            )
        for kind, icon in ACTIVITY_ICONS.items():
            keyboard.button(
                text=f"{icon} {tp(f'activity.{kind.value}')}",
                callback_data=DealCard(deal_id=deal.id, action=CardAction.ACTIVITY, arg=kind.value),
            )
        if deal.lead_chat_id is not None:  # a client who wrote to the bot and was not erased
            keyboard.button(
                text=tp("button.write_to_lead"),
                callback_data=DealAction(action=DealActionKind.WRITE, deal_id=deal.id),
            )
        keyboard.button(
            text=tp("card.scripts"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.SCRIPTS),
        )
        keyboard.button(
            text=tp("card.remind"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.REMIND),
        )
        keyboard.button(
            text=tp("card.wake" if snoozed else "card.snooze"),
            callback_data=DealCard(
                deal_id=deal.id, action=CardAction.WAKE if snoozed else CardAction.SNOOZE
            ),
        )
        keyboard.button(
            text=tp("card.qualify"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.QUALIFY),
        )
        keyboard.button(
            text=tp("card.amount"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.AMOUNT),
        )
        if template_for(book, pipeline.product, pipeline.segment) is not None:
            keyboard.button(text=tp("card.proposal"), callback_data=ProposalAction(deal_id=deal.id))
        keyboard.button(
            text=tp("card.won"), callback_data=DealCard(deal_id=deal.id, action=CardAction.WON)
        )
        keyboard.button(
            text=tp("card.lost"), callback_data=DealCard(deal_id=deal.id, action=CardAction.LOST)
        )
        if can(role, Action.REASSIGN):
            keyboard.button(
                text=tp("card.reassign"),
                callback_data=DealCard(deal_id=deal.id, action=CardAction.REASSIGN),
            )
    elif can(role, Action.REOPEN_DEAL):
        keyboard.button(
            text=tp("card.reopen"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.REOPEN),
        )
    keyboard.button(text=tp("card.to_list"), callback_data=DealsPage())
    keyboard.adjust(2)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def to_client(reminder: Reminder) -> bool:
    """A step after the sale that the bot itself sends to the client, not a reminder to staff."""
    return reminder.audience is Audience.CLIENT


def _closing_lines(deal: Deal, book: SalesBook, zone: ZoneInfo) -> list[str]:
    """How a closed deal ended: when, and for a lost one why, in the manager's words too."""
    status = t(f"dcard.status.{deal.status.value}")
    if deal.closed_at is not None:
        status += t("dcard.closed_at", at=deal.closed_at.astimezone(zone).strftime("%d.%m.%Y"))
    lines = [status]
    if deal.lost_reason_id is not None:
        reasons = {reason.id: reason.name for reason in book.lost_reasons}
        lines.append(
            t("dcard.lost_reason", reason=reasons.get(deal.lost_reason_id, deal.lost_reason_id))
        )
    if deal.close_comment:
        lines.append(t("dcard.close_comment", comment=deal.close_comment))
    return lines


def checklist_screen(
    deal: Deal, book: SalesBook, ticked: int, role: Role
) -> tuple[str, InlineKeyboardMarkup]:
    assert deal.id is not None
    stage = book.pipeline(deal.pipeline_id).stage(deal.stage_id)
    keyboard = InlineKeyboardBuilder()
    marks = ["☑️" if ticked & (1 << index) else "⬜️" for index in range(len(stage.exit_criteria))]
    for index, criterion in enumerate(stage.exit_criteria):
        keyboard.button(
            text=f"{marks[index]} {criterion}"[:64],
            callback_data=DealCard(
                deal_id=deal.id, action=CardAction.TICK, ticked=ticked ^ (1 << index)
            ),
        )
    keyboard.button(
        text=tp("card.confirm_move"),
        callback_data=DealCard(deal_id=deal.id, action=CardAction.CONFIRM_ADVANCE, ticked=ticked),
    )
    if can(role, Action.OVERRIDE_EXIT_CRITERIA):
        keyboard.button(
            text=tp("card.override"),
            callback_data=DealCard(deal_id=deal.id, action=CardAction.OVERRIDE, ticked=ticked),
        )
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal.id))
    keyboard.adjust(1)
    lines = [t("card.checklist", stage=stage.name)]
    # The criteria in full (a button cuts a long one), ticked as on the buttons.
    lines += [
        t("card.criterion", mark=mark, text=criterion)
        for mark, criterion in zip(marks, stage.exit_criteria, strict=True)
    ]
    return "\n".join(lines), keyboard.as_markup()


def back_screen(deal: Deal, book: SalesBook) -> tuple[str, InlineKeyboardMarkup]:
    assert deal.id is not None
    pipeline = book.pipeline(deal.pipeline_id)
    keyboard = InlineKeyboardBuilder()
    for stage in pipeline.stages[: pipeline.stage_index(deal.stage_id)]:
        keyboard.button(
            text=stage.name,
            callback_data=DealCard(deal_id=deal.id, action=CardAction.BACK_TO, arg=stage.id),
        )
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal.id))
    keyboard.adjust(1)
    return t("card.back_to"), keyboard.as_markup()


def lost_screen(
    deal: Deal, book: SalesBook, suggested: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The book's lost reasons; the one the qualification answers point to (if any) first."""
    assert deal.id is not None
    keyboard = InlineKeyboardBuilder()
    reasons = sorted(book.lost_reasons, key=lambda reason: reason.id != suggested)
    for reason in reasons:
        label = tp("card.suggested_reason", reason=reason.name) if reason.id == suggested else None
        keyboard.button(
            text=label or reason.name,
            callback_data=DealCard(deal_id=deal.id, action=CardAction.LOST_REASON, arg=reason.id),
        )
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal.id))
    keyboard.adjust(1)
    return t("card.lost_reason"), keyboard.as_markup()


def cancel_to_card(deal_id: int) -> InlineKeyboardMarkup:
    """The one button of a question asked from the card: back to it, the question left."""
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=tp("button.cancel"), callback_data=DealCard(deal_id=deal_id))
    return keyboard.as_markup()


def urgency_text(urgency: Urgency, zone: ZoneInfo) -> str:
    left = urgency.left
    if urgency.is_overdue:
        return t("urgency.overdue", span=_span(-left))
    return t(
        "urgency.left",
        span=_span(left),
        at=urgency.deadline.astimezone(zone).strftime("%d.%m %H:%M"),
    )


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return tp("span.days_hours", days=days, hours=hours)
    if hours:
        return tp("span.hours_minutes", hours=hours, minutes=minutes)
    return tp("span.minutes", minutes=minutes)


def deals_screen(
    page: DealPage,
    book: SalesBook,
    zone: ZoneInfo,
    view: DealsPage,
    managers_filter: bool,
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of /deals: a line and a button per deal, then paging and the filters."""
    title = t("deals.title", total=page.total, page=page.page + 1, pages=page.pages)
    if filters := _filters_text(book, view, page.manager_name):
        title += "\n" + filters
    if not page.lines:
        title += "\n\n" + t("deals.empty")
    lines = [title]
    if page.queued:
        lines.append(t("deals.queued", count=page.queued))
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
    if page.queued:
        keyboard.row(
            InlineKeyboardButton(
                text=tp("deals.queue_button", count=page.queued),
                callback_data=view.model_copy(update={"pick": "q"}).pack(),
            )
        )
    navigation = paging_buttons(
        page.page, page.pages, lambda to: view.model_copy(update={"page": to})
    )
    navigation.button(
        text=tp("deals.all_button") if view.overdue else tp("deals.overdue_button"),
        callback_data=view.model_copy(update={"overdue": not view.overdue, "page": 0}),
    )
    navigation.button(
        text=tp("deals.stage_button"), callback_data=view.model_copy(update={"pick": "s"})
    )
    if managers_filter:
        navigation.button(
            text=tp("deals.manager_button"),
            callback_data=view.model_copy(update={"pick": "m", "page": 0}),
        )
    keyboard.attach(navigation)
    return join_within_limit(lines, "list.more"), keyboard.as_markup()


def _filters_text(book: SalesBook, view: DealsPage, manager_name: str | None) -> str:
    """Which deals the list is narrowed to, so an empty list is not read as "no deals"."""
    parts = []
    if view.manager:
        parts.append(t("deals.filter_manager", name=manager_name or view.manager))
    if view.stage:
        names = {
            stage.name
            for pipeline in book.pipelines
            for stage in pipeline.stages
            if stage.id == view.stage
        }
        parts.append(t("deals.filter_stage", stage=" · ".join(sorted(names)) or view.stage))
    if view.overdue:
        parts.append(t("deals.filter_overdue"))
    return t("deals.filtered") + "; ".join(parts) if parts else ""
