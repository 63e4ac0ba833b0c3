"""What the Mini App's JSON says: the board and the deal as plain values, the words already in
the person's language (from the catalogues, as the chat's screens take them)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.screens.deal_screens import to_client, urgency_text
from bot.telegram.i18n import tp
from domain.contact import Contact
from domain.deal import Deal
from domain.sales_book import SalesBook
from services.board import Board, BoardCard, DealDetails

APP_TEXTS = (
    "app.title",
    "app.search",
    "app.overdue_only",
    "app.every_manager",
    "app.next_stage",
    "app.back",
    "app.history",
    "app.activities",
    "app.qualification",
    "app.next_reminder",
    "app.snoozed",
    "app.empty",
    "app.note",
    "app.won",
    "app.lost",
    "app.back_to",
    "app.comment",
    "app.amount",
    "app.remind",
    "app.remind_when",
    "app.remind_what",
    "app.preset_soon",
    "app.preset_tomorrow",
    "app.preset_monday",
)


def texts_json() -> dict[str, str]:
    return {key.removeprefix("app."): tp(key) for key in APP_TEXTS}


def board_json(
    board: Board, book: SalesBook, now: dt.datetime, managers: dict[int, str], zone: ZoneInfo
) -> dict[str, Any]:
    pipeline = book.pipeline(board.pipeline_id)
    columns: dict[str, list[dict[str, Any]]] = {stage.id: [] for stage in pipeline.stages}
    for card in board.cards:
        columns.setdefault(card.urgency.deal.stage_id, []).append(_card(card, now, zone))
    return {
        "pipeline": pipeline.id,
        "pipelines": [{"id": p.id, "name": p.name} for p in book.pipelines],
        "stages": [
            {"id": stage.id, "name": stage.name, "cards": columns[stage.id]}
            for stage in pipeline.stages
        ],
        "managers": [{"id": key, "name": name} for key, name in managers.items()],
    }


def _card(card: BoardCard, now: dt.datetime, zone: ZoneInfo) -> dict[str, Any]:
    deal = card.urgency.deal
    return {
        "id": deal.id,
        **_contact(card.contact),
        "amount": _amount(deal),
        "due": urgency_text(card.urgency, zone),
        "overdue": card.urgency.is_overdue,
        "snoozed": deal.snoozed_until is not None and deal.snoozed_until > now,
        "qualification": _level(deal),
        "manager_id": deal.manager_id,
    }


def _manager(name: str | None) -> str | None:
    """Whose deal it is, for a supervisor (None for a manager: their own)."""
    if name is None:
        return None
    return tp("app.manager", name=name or tp("dcard.no_manager"))


def deal_json(details: DealDetails, book: SalesBook, zone: ZoneInfo) -> dict[str, Any]:
    view = details.view
    deal = view.deal
    pipeline = book.pipeline(deal.pipeline_id)
    stage = pipeline.stage(deal.stage_id)
    names = {s.id: s.name for s in pipeline.stages}
    framework = book.framework_for(deal.pipeline_id)
    reminder = view.next_reminder
    return {
        "id": deal.id,
        **_contact(view.contact),
        "status": deal.status.value,
        "pipeline": pipeline.id,
        "stage": {"id": stage.id, "name": stage.name, "exit_criteria": stage.exit_criteria},
        "back_to": [
            {"id": s.id, "name": s.name} for s in pipeline.stages[: pipeline.stage_index(stage.id)]
        ],
        "lost_reasons": [{"id": r.id, "name": r.name} for r in book.lost_reasons],
        "amount": _amount(deal),
        "due": urgency_text(view.urgency, zone) if view.urgency else None,
        "overdue": bool(view.urgency and view.urgency.is_overdue),
        "qualification": _level(deal),
        "manager": _manager(view.manager_name),
        "history": [
            {
                "kind": tp(f"app.step.{step.kind}"),
                "from": names.get(step.from_stage or "", step.from_stage),
                "to": names.get(step.to_stage, step.to_stage),
                "at": _local(step.at, zone),
                "comment": step.comment,
            }
            for step in details.history
        ],
        "activities": [
            {"kind": tp(f"activity.{a.kind}"), "at": _local(a.at, zone), "comment": a.comment}
            for a in view.activities
        ],
        "answers": [
            {"question": q.text, "answer": q.options[details.answers[q.id]].text}
            for q in framework.questions
            if 0 <= details.answers.get(q.id, -1) < len(q.options)
        ],
        "next_reminder": (
            {
                "at": _local(reminder.due_at, zone),
                "text": (
                    tp("app.to_client", text=reminder.text)
                    if to_client(reminder) and reminder.text
                    else reminder.text or tp(f"reminder.kind.{reminder.kind}")
                ),
            }
            if reminder
            else None
        ),
    }


def _level(deal: Deal) -> str | None:
    level = deal.qualification_level
    return tp(f"qualification.level.{level.value}") if level else None


def _local(at: dt.datetime, zone: ZoneInfo) -> str:
    """A time as the chat's card writes it: the team's time zone, day.month hours:minutes."""
    return at.astimezone(zone).strftime("%d.%m %H:%M")


def _contact(contact: Contact | None) -> dict[str, Any]:
    if contact is None:
        return {"client": "—", "company": None, "phone": None}
    return {"client": contact.name or "—", "company": contact.company, "phone": contact.phone}


def _amount(deal: Deal) -> str | None:
    if deal.amount is None:
        return None
    return f"{deal.amount:,.0f}".replace(",", " ") + (f" {deal.currency}" if deal.currency else "")
