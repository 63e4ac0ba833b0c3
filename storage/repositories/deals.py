"""Deals as domain objects, with what is kept on each: the stage history, handovers, relayed
messages, the manager's own Telegram chat, qualification answers and proposal figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.business import Change, ChatMessage, Direction
from domain.deal import (
    Deal,
    DealStatus,
    Reassignment,
    ShownCard,
    StageTransition,
    TransitionKind,
)
from domain.qualification import QualificationLevel
from storage.models import (
    BusinessMessageRow,
    CardMessageRow,
    DealMessageRow,
    DealRow,
    ProposalFigureRow,
    QualificationAnswerRow,
    ReassignmentRow,
    StageTransitionRow,
)
from storage.repositories.deal_queries import (
    OPEN_DEAL_AND_REQUESTS,
    OPEN_DEAL_ANY_CHAT_AND_REQUESTS,
    REQUESTS_SINCE,
    open_deal_filters,
)
from storage.upserts import upsert

UNKNOWN_SOURCE = "unknown"
_INSERT = insert(cast(Table, DealRow.__table__)).returning(DealRow.id)
_REMEMBER_CARD = upsert(
    CardMessageRow,
    columns=["deal_id", "staff_id", "chat_id", "message_id"],
    conflict=["deal_id", "staff_id"],
    update=["chat_id", "message_id"],
)


class DealRepository:
    """Deals as domain objects; every stage change is appended to the stage history."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[int, DealRow] = {}

    async def add(self, deal: Deal, *, is_demo: bool = False) -> Deal:
        """Store a new deal; it comes back with its id. On the table, not through the ORM:
        every request opens one, and the ORM's flush cost twice the INSERT it runs."""
        result = await self._session.execute(_INSERT, {**_deal_values(deal), "is_demo": is_demo})
        deal.id = result.scalar_one()
        return deal

    async def get(self, deal_id: int) -> Deal | None:
        row = await self._session.get(DealRow, deal_id)
        return self._held(row) if row else None

    async def many(self, deal_ids: Sequence[int]) -> dict[int, Deal]:
        """Several deals in one query."""
        if not deal_ids:
            return {}
        rows = await self._session.scalars(select(DealRow).where(DealRow.id.in_(deal_ids)))
        return {row.id: self._held(row) for row in rows}

    def _held(self, row: DealRow) -> Deal:
        # Held for `save`: the session's identity map keeps rows only while someone refers to
        # them, and a deal read, changed and saved must not be read twice.
        self._loaded[row.id] = row
        return _deal_from_row(row)

    async def save(self, deal: Deal) -> None:
        if deal.id is None:
            raise ValueError("save() is for stored deals; use add() for a new one")
        row = self._loaded.get(deal.id) or await self._session.get(DealRow, deal.id)
        if row is None:
            raise LookupError(deal.id)
        _copy_deal_to_row(deal, row)

    def record(self, transition: StageTransition) -> None:
        if transition.deal_id is None:
            raise ValueError("a transition is recorded for a stored deal")
        self._session.add(
            StageTransitionRow(
                deal_id=transition.deal_id,
                kind=transition.kind.value,
                from_stage=transition.from_stage,
                to_stage=transition.to_stage,
                actor_id=transition.actor_id,
                at=transition.at,
                comment=transition.comment,
                override=transition.override,
            )
        )

    async def history(self, deal_id: int) -> list[StageTransition]:
        query = (
            select(StageTransitionRow)
            .where(StageTransitionRow.deal_id == deal_id)
            .order_by(StageTransitionRow.at, StageTransitionRow.id)
        )
        return [
            StageTransition(
                deal_id=row.deal_id,
                from_stage=row.from_stage,
                to_stage=row.to_stage,
                kind=TransitionKind(row.kind),
                actor_id=row.actor_id,
                at=row.at,
                comment=row.comment,
                override=row.override,
            )
            for row in await self._session.scalars(query)
        ]

    async def for_contact(self, contact_id: int) -> list[Deal]:
        query = select(DealRow).where(DealRow.contact_id == contact_id).order_by(DealRow.id)
        return [_deal_from_row(row) for row in await self._session.scalars(query)]

    async def latest_for_contact(self, contact_id: int) -> Deal | None:
        query = (
            select(DealRow)
            .where(DealRow.contact_id == contact_id)
            .order_by(DealRow.created_at.desc(), DealRow.id.desc())
            .limit(1)
        )
        row = (await self._session.scalars(query)).first()
        return _deal_from_row(row) if row else None

    async def latest_in_chat(self, lead_chat_id: int) -> Deal | None:
        """The deal a lead's message in their chat belongs to: the newest open one, else the
        newest. By chat, not by contact: a contact a manager merged has several chats, and
        each one talks only about its own deals."""
        query = (
            select(DealRow)
            .where(DealRow.lead_chat_id == lead_chat_id)
            .order_by(
                (DealRow.status == DealStatus.OPEN.value).desc(),
                DealRow.created_at.desc(),
                DealRow.id.desc(),
            )
            .limit(1)
        )
        row = (await self._session.scalars(query)).first()
        return _deal_from_row(row) if row else None

    async def for_contacts_or_chat(
        self, contact_ids: Sequence[int], lead_chat_id: int
    ) -> list[Deal]:
        """Every deal of these contacts, and every deal talked about in this chat."""
        query = (
            select(DealRow)
            .where(DealRow.contact_id.in_(contact_ids) | (DealRow.lead_chat_id == lead_chat_id))
            .order_by(DealRow.id)
        )
        return [_deal_from_row(row) for row in await self._session.scalars(query)]

    async def latest_open_for_contact(self, contact_id: int) -> Deal | None:
        query = (
            select(DealRow)
            .where(DealRow.contact_id == contact_id, DealRow.status == DealStatus.OPEN.value)
            .order_by(DealRow.created_at.desc(), DealRow.id.desc())
            .limit(1)
        )
        row = (await self._session.scalars(query)).first()
        return _deal_from_row(row) if row else None

    async def open_deal_and_requests_since(
        self, contact_id: int, lead_chat_id: int, since: dt.datetime, *, any_chat: bool
    ) -> tuple[Deal | None, int]:
        """The contact's latest open deal (in this chat, unless `any_chat`: a phone Telegram
        verified makes the contact's other chats this person's too), and how many requests the
        chat made since `since`, read together (the request path counts its statements)."""
        statement = OPEN_DEAL_ANY_CHAT_AND_REQUESTS if any_chat else OPEN_DEAL_AND_REQUESTS
        values = {"contact_id": contact_id, "lead_chat_id": lead_chat_id, "since": since}
        open_id, requests = (await self._session.execute(statement, values)).one()
        return (await self.get(open_id) if open_id is not None else None), int(requests or 0)

    async def count_requests_since(self, lead_chat_id: int, since: dt.datetime) -> int:
        values = {"lead_chat_id": lead_chat_id, "since": since}
        return int(await self._session.scalar(REQUESTS_SINCE, values) or 0)

    def log_message(
        self,
        deal_id: int,
        direction: str,
        author_id: int | None,
        kind: str,
        text: str | None,
        at: dt.datetime,
        relay: tuple[int, int] | None = None,
    ) -> None:
        self._session.add(
            DealMessageRow(
                deal_id=deal_id,
                direction=direction,
                author_id=author_id,
                kind=kind,
                text=text,
                at=at,
                relay_chat_id=relay[0] if relay else None,
                relay_message_id=relay[1] if relay else None,
            )
        )

    async def deal_of_relay(self, chat_id: int, message_id: int) -> int | None:
        query = select(DealMessageRow.deal_id).where(
            DealMessageRow.relay_chat_id == chat_id, DealMessageRow.relay_message_id == message_id
        )
        deal_id: int | None = (await self._session.scalars(query.limit(1))).first()
        return deal_id

    async def erase_message_texts(self, deal_ids: Sequence[int]) -> None:
        """Every text kept on the deals: the relayed messages and the manager's own Telegram
        chats logged on them."""
        if deal_ids:
            await self._session.execute(
                update(DealMessageRow).where(DealMessageRow.deal_id.in_(deal_ids)).values(text=None)
            )
            await self._session.execute(
                update(BusinessMessageRow)
                .where(BusinessMessageRow.deal_id.in_(deal_ids))
                .values(text=None)
            )

    async def chat_history(self, deal_id: int, *, limit: int) -> list[ChatMessage]:
        """The latest events of the manager's own Telegram chat logged on the deal, the newest
        first."""
        query = (
            select(BusinessMessageRow)
            .where(BusinessMessageRow.deal_id == deal_id)
            .order_by(BusinessMessageRow.at.desc(), BusinessMessageRow.id.desc())
            .limit(limit)
        )
        return [
            ChatMessage(
                direction=Direction(row.direction),
                kind=row.kind,
                text=row.text,
                at=row.at,
                change=Change(row.change),
                message_id=row.message_id,
                deal_id=row.deal_id,
            )
            for row in await self._session.scalars(query)
        ]

    async def open_deals(
        self,
        *,
        manager_id: int | None = None,
        stage_id: str | None = None,
        queued: bool = False,
        limit: int | None = None,
    ) -> list[Deal]:
        """Open deals (no trainee's), oldest first; `queued`: only those nobody manages."""
        query = (
            select(DealRow)
            .where(*open_deal_filters(manager_id=manager_id, stage_id=stage_id, queued=queued))
            .order_by(DealRow.created_at, DealRow.id)
            .limit(limit)
        )
        return [_deal_from_row(row) for row in await self._session.scalars(query)]

    async def count_queued(self) -> int:
        """Open deals nobody manages (no trainee's), counted by the database."""
        query = select(func.count(DealRow.id)).where(*open_deal_filters(queued=True))
        return int(await self._session.scalar(query) or 0)

    async def proposal_figures(self, deal_id: int) -> dict[str, Decimal]:
        rows = await self._session.execute(
            select(ProposalFigureRow.input_id, ProposalFigureRow.value).where(
                ProposalFigureRow.deal_id == deal_id
            )
        )
        return {input_id: Decimal(value) for input_id, value in rows.tuples()}

    async def set_proposal_figure(
        self, deal_id: int, input_id: str, value: Decimal, by: int, at: dt.datetime
    ) -> None:
        await self._session.merge(
            ProposalFigureRow(
                deal_id=deal_id, input_id=input_id, value=value, entered_by=by, entered_at=at
            )
        )

    async def clear_proposal_figures(self, deal_id: int) -> None:
        await self._session.execute(
            delete(ProposalFigureRow).where(ProposalFigureRow.deal_id == deal_id)
        )

    async def qualification_answers(self, deal_id: int, framework_id: str) -> dict[str, int]:
        rows = await self._session.execute(
            select(QualificationAnswerRow.question_id, QualificationAnswerRow.option_index).where(
                QualificationAnswerRow.deal_id == deal_id,
                QualificationAnswerRow.framework_id == framework_id,
            )
        )
        return {question_id: option for question_id, option in rows.tuples()}

    async def save_qualification_answer(
        self,
        deal_id: int,
        framework_id: str,
        question_id: str,
        option_index: int,
        answered_by: int,
        at: dt.datetime,
        comment: str | None = None,
    ) -> None:
        row = await self._session.scalar(
            select(QualificationAnswerRow).where(
                QualificationAnswerRow.deal_id == deal_id,
                QualificationAnswerRow.framework_id == framework_id,
                QualificationAnswerRow.question_id == question_id,
            )
        )
        if row is None:
            self._session.add(
                QualificationAnswerRow(
                    deal_id=deal_id,
                    framework_id=framework_id,
                    question_id=question_id,
                    option_index=option_index,
                    answered_by=answered_by,
                    at=at,
                    comment=comment,
                )
            )
        else:
            row.option_index, row.answered_by, row.at = option_index, answered_by, at
            row.comment = comment

    def record_reassignment(self, reassignment: Reassignment) -> None:
        if reassignment.deal_id is None:
            raise ValueError("a reassignment is recorded for a stored deal")
        self._session.add(
            ReassignmentRow(
                deal_id=reassignment.deal_id,
                from_manager_id=reassignment.from_manager_id,
                to_manager_id=reassignment.to_manager_id,
                actor_id=reassignment.actor_id,
                at=reassignment.at,
            )
        )

    async def reassignments(self, deal_id: int) -> list[Reassignment]:
        query = (
            select(ReassignmentRow)
            .where(ReassignmentRow.deal_id == deal_id)
            .order_by(ReassignmentRow.at, ReassignmentRow.id)
        )
        return [
            Reassignment(row.deal_id, row.from_manager_id, row.to_manager_id, row.actor_id, row.at)
            for row in await self._session.scalars(query)
        ]

    async def open_counts_by_manager(self) -> dict[int, int]:
        """Open deals per manager (the queue's deals, with no manager, are left out)."""
        query = (
            select(DealRow.manager_id, func.count())
            .where(*open_deal_filters(), DealRow.manager_id.is_not(None))
            .group_by(DealRow.manager_id)
        )
        return {manager_id: count for manager_id, count in await self._session.execute(query)}

    async def open_without_deadline(self, after_id: int, limit: int) -> list[Deal]:
        query = (
            select(DealRow)
            .where(
                DealRow.status == DealStatus.OPEN.value,
                DealRow.deadline_at.is_(None),
                DealRow.id > after_id,
            )
            .order_by(DealRow.id)
            .limit(limit)
        )
        return [_deal_from_row(row) for row in await self._session.scalars(query)]

    async def remember_card(self, card: ShownCard) -> None:
        await self._session.execute(_REMEMBER_CARD, dataclasses.asdict(card))

    async def shown_cards(self, deal_id: int) -> list[ShownCard]:
        query = select(CardMessageRow).where(CardMessageRow.deal_id == deal_id)
        return [
            ShownCard(row.deal_id, row.staff_id, row.chat_id, row.message_id)
            for row in await self._session.scalars(query)
        ]

    async def forget_card(self, card: ShownCard) -> None:
        """Only if it is still that message: a newer card opened meanwhile stays."""
        await self._session.execute(
            delete(CardMessageRow).where(
                CardMessageRow.deal_id == card.deal_id,
                CardMessageRow.staff_id == card.staff_id,
                CardMessageRow.message_id == card.message_id,
            )
        )


def _deal_values(deal: Deal) -> dict[str, Any]:
    return {
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "status": deal.status.value,
        "manager_id": deal.manager_id,
        "contact_id": deal.contact_id,
        "source": deal.source or UNKNOWN_SOURCE,
        "need": deal.need,
        "amount": deal.amount,
        "currency": deal.currency,
        "lost_reason_id": deal.lost_reason_id,
        "close_comment": deal.close_comment,
        "qualification_level": deal.qualification_level.value if deal.qualification_level else None,
        "qualification_points": deal.qualification_points,
        "created_at": deal.created_at,
        "stage_entered_at": deal.stage_entered_at,
        "closed_at": deal.closed_at,
        "lead_chat_id": deal.lead_chat_id,
        "first_response_due_at": deal.first_response_due_at,
        "taken_at": deal.taken_at,
        "snoozed_until": deal.snoozed_until,
        "deadline_at": deal.deadline_at,
        "snooze_reason": deal.snooze_reason,
        "is_sandbox": deal.is_sandbox,
        "same_phone_as": deal.same_phone_as,
    }


def _copy_deal_to_row(deal: Deal, row: DealRow) -> None:
    for name, value in _deal_values(deal).items():
        setattr(row, name, value)


def _deal_from_row(row: DealRow) -> Deal:
    return Deal(
        id=row.id,
        pipeline_id=row.pipeline_id,
        stage_id=row.stage_id,
        status=DealStatus(row.status),
        manager_id=row.manager_id,
        contact_id=row.contact_id,
        source=row.source,
        need=row.need,
        amount=row.amount,
        currency=row.currency,
        lost_reason_id=row.lost_reason_id,
        close_comment=row.close_comment,
        qualification_level=(
            QualificationLevel(row.qualification_level) if row.qualification_level else None
        ),
        qualification_points=row.qualification_points,
        created_at=row.created_at,
        stage_entered_at=row.stage_entered_at,
        closed_at=row.closed_at,
        lead_chat_id=row.lead_chat_id,
        first_response_due_at=row.first_response_due_at,
        taken_at=row.taken_at,
        snoozed_until=row.snoozed_until,
        deadline_at=row.deadline_at,
        snooze_reason=row.snooze_reason,
        is_sandbox=row.is_sandbox,
        same_phone_as=row.same_phone_as,
    )
