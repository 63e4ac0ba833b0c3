"""Deals, with what is kept on them (history, messages, answers, figures, handovers), and
activities, training walks and script uses, in memory."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from domain.activity import Activity
from domain.business import ChatMessage
from domain.deal import Deal, Reassignment, ShownCard, StageTransition
from domain.script_use import ScriptUse
from domain.training import Training
from tests.services.fakes.copies import copied, existing


@dataclass
class LoggedMessage:
    deal_id: int
    direction: str
    author_id: int | None
    kind: str
    text: str | None
    at: dt.datetime
    relay: tuple[int, int] | None


@dataclass
class QualificationAnswer:
    option_index: int
    answered_by: int
    at: dt.datetime
    comment: str | None


class FakeDeals:
    def __init__(self) -> None:
        self.by_id: dict[int, Deal] = {}
        self.transitions: list[StageTransition] = []
        self.reassignments: list[Reassignment] = []
        self.messages: list[LoggedMessage] = []
        self.answers: dict[tuple[int, str, str], QualificationAnswer] = {}
        self.figures: dict[tuple[int, str], Decimal] = {}
        self.cards: dict[tuple[int, int], ShownCard] = {}

    async def add(self, deal: Deal) -> Deal:
        deal.id = max(self.by_id, default=0) + 1
        self.by_id[deal.id] = copied(deal)
        return deal

    async def get(self, deal_id: int) -> Deal | None:
        return copied(self.by_id.get(deal_id))

    async def many(self, deal_ids: Sequence[int]) -> dict[int, Deal]:
        return {i: copied(d) for i, d in self.by_id.items() if i in deal_ids}

    async def save(self, deal: Deal) -> None:
        existing(self.by_id, deal.id)
        assert deal.id is not None
        self.by_id[deal.id] = copied(deal)

    def record(self, transition: StageTransition) -> None:
        assert transition.deal_id is not None, "a transition is recorded for a stored deal"
        self.transitions.append(transition)

    async def history(self, deal_id: int) -> list[StageTransition]:
        return sorted((t for t in self.transitions if t.deal_id == deal_id), key=lambda t: t.at)

    async def for_contact(self, contact_id: int) -> list[Deal]:
        return self._where(lambda d: d.contact_id == contact_id)

    async def latest_for_contact(self, contact_id: int) -> Deal | None:
        return _latest(self._where(lambda d: d.contact_id == contact_id))

    async def latest_in_chat(self, lead_chat_id: int) -> Deal | None:
        deals = self._where(lambda d: d.lead_chat_id == lead_chat_id)
        return _latest([d for d in deals if d.is_open]) or _latest(deals)

    async def for_contacts_or_chat(
        self, contact_ids: Sequence[int], lead_chat_id: int
    ) -> list[Deal]:
        return self._where(lambda d: d.contact_id in contact_ids or d.lead_chat_id == lead_chat_id)

    async def open_deal_and_requests_since(
        self, contact_id: int, lead_chat_id: int, since: dt.datetime, *, any_chat: bool
    ) -> tuple[Deal | None, int]:
        own = self._where(
            lambda d: (
                d.contact_id == contact_id
                and d.is_open
                and (any_chat or d.lead_chat_id == lead_chat_id)
            )
        )
        return _latest(own), await self.count_requests_since(lead_chat_id, since)

    async def count_requests_since(self, lead_chat_id: int, since: dt.datetime) -> int:
        return len(self._where(lambda d: d.lead_chat_id == lead_chat_id and d.created_at >= since))

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
        self.messages.append(LoggedMessage(deal_id, direction, author_id, kind, text, at, relay))

    async def deal_of_relay(self, chat_id: int, message_id: int) -> int | None:
        return next((m.deal_id for m in self.messages if m.relay == (chat_id, message_id)), None)

    async def erase_message_texts(self, deal_ids: Sequence[int]) -> None:
        for message in self.messages:
            if message.deal_id in deal_ids:
                message.text = None

    async def chat_history(self, deal_id: int, *, limit: int) -> list[ChatMessage]:
        return []  # the managers' own Telegram chats are tested end to end

    async def open_deals(
        self,
        *,
        manager_id: int | None = None,
        stage_id: str | None = None,
        queued: bool = False,
        limit: int | None = None,
    ) -> list[Deal]:
        found = self._where(
            lambda d: (
                d.is_open
                and not d.is_sandbox
                and manager_id in (None, d.manager_id)
                and stage_id in (None, d.stage_id)
                and not (queued and d.manager_id is not None)
            )
        )
        return found if limit is None else found[:limit]

    async def count_queued(self) -> int:
        return len(await self.open_deals(queued=True))

    async def proposal_figures(self, deal_id: int) -> dict[str, Decimal]:
        return {key: value for (deal, key), value in self.figures.items() if deal == deal_id}

    async def set_proposal_figure(
        self, deal_id: int, input_id: str, value: Decimal, by: int, at: dt.datetime
    ) -> None:
        self.figures[deal_id, input_id] = value

    async def clear_proposal_figures(self, deal_id: int) -> None:
        self.figures = {key: v for key, v in self.figures.items() if key[0] != deal_id}

    async def qualification_answers(self, deal_id: int, framework_id: str) -> dict[str, int]:
        return {
            question: answer.option_index
            for (deal, framework, question), answer in self.answers.items()
            if (deal, framework) == (deal_id, framework_id)
        }

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
        answer = QualificationAnswer(option_index, answered_by, at, comment)
        self.answers[deal_id, framework_id, question_id] = answer

    def record_reassignment(self, reassignment: Reassignment) -> None:
        assert reassignment.deal_id is not None, "a reassignment is recorded for a stored deal"
        self.reassignments.append(reassignment)

    async def open_counts_by_manager(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for deal in await self.open_deals():
            if deal.manager_id is not None:
                counts[deal.manager_id] = counts.get(deal.manager_id, 0) + 1
        return counts

    async def open_without_deadline(self, after_id: int, limit: int) -> list[Deal]:
        found = self._where(
            lambda d: d.is_open and d.deadline_at is None and (d.id or 0) > after_id
        )
        return found[:limit]

    async def remember_card(self, card: ShownCard) -> None:
        self.cards[card.deal_id, card.staff_id] = card

    async def shown_cards(self, deal_id: int) -> list[ShownCard]:
        return [card for (of_deal, _), card in self.cards.items() if of_deal == deal_id]

    async def forget_card(self, card: ShownCard) -> None:
        if self.cards.get((card.deal_id, card.staff_id)) == card:
            del self.cards[card.deal_id, card.staff_id]

    def _where(self, condition: Callable[[Deal], bool]) -> list[Deal]:
        return [copied(self.by_id[key]) for key in sorted(self.by_id) if condition(self.by_id[key])]


def _latest(deals: Iterable[Deal]) -> Deal | None:
    return max(deals, key=lambda d: (d.created_at, d.id or 0), default=None)


class FakeActivities:
    def __init__(self) -> None:
        self.logged: list[Activity] = []

    def add(self, activity: Activity) -> None:
        self.logged.append(activity)

    async def kinds_since(self, deal_id: int, since: dt.datetime) -> set[str]:
        return {a.kind for a in self.logged if a.deal_id == deal_id and a.at >= since}

    async def latest(self, deal_id: int, *, limit: int) -> list[Activity]:
        mine = [a for a in reversed(self.logged) if a.deal_id == deal_id]
        return sorted(mine, key=lambda a: a.at, reverse=True)[:limit]


class FakeTrainings:
    def __init__(self) -> None:
        self.by_staff: dict[int, Training] = {}

    async def get(self, staff_id: int) -> Training | None:
        return self.by_staff.get(staff_id)

    async def start(self, staff_id: int, deal_id: int, at: dt.datetime) -> None:
        self.by_staff[staff_id] = Training(staff_id, deal_id, at)

    async def save(self, training: Training) -> None:
        existing(self.by_staff, training.staff_id)
        self.by_staff[training.staff_id] = training


class FakeScriptUses:
    def __init__(self) -> None:
        self.by_id: dict[int, ScriptUse] = {}

    async def add(self, use: ScriptUse) -> ScriptUse:
        stored = dataclasses.replace(use, id=max(self.by_id, default=0) + 1)
        assert stored.id is not None
        self.by_id[stored.id] = stored
        return stored

    async def get(self, use_id: int) -> ScriptUse | None:
        return self.by_id.get(use_id)

    async def save(self, use: ScriptUse) -> None:
        existing(self.by_id, use.id)
        assert use.id is not None
        self.by_id[use.id] = use

    async def shown_by_variant(self, objection_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for use in self.by_id.values():
            if use.objection_id == objection_id:
                counts[use.variant_id] = counts.get(use.variant_id, 0) + 1
        return counts

    async def used_on(self, deal_id: int) -> bool:
        return any(use.deal_id == deal_id for use in self.by_id.values())
