"""Qualifying a lead with the book's framework, one question at a time. Every answer is stored
as it is given, so a qualification interrupted by /cancel or a restart resumes where it was."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.book_qualification import QualificationFramework, Question
from domain.clock import Clock
from domain.deal import Deal, ShownCard, clean_comment
from domain.qualification import (
    QualificationLevel,
    QualificationResult,
    matching_lost_reason,
    next_question,
    score,
)
from domain.sales_book import SalesBook
from domain.working_time import WorkingCalendar
from services.access import load_deal
from services.staff import Actor
from services.unit_of_work import UnitOfWork
from services.workspace import DealView, card_view


@dataclass(frozen=True, slots=True)
class QualificationStep:
    framework: QualificationFramework
    question: Question | None
    """None once every question is answered."""
    result: QualificationResult
    lost_reason: str | None = None
    """The lost reason the answers point to (see `matching_lost_reason`)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A tapped option of a question, with what the manager noted about it."""

    question_id: str
    option_index: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class QualificationScreen:
    step: QualificationStep
    card: DealView | None
    """The deal's card once every question is answered (None while one is still asked)."""

    @property
    def offers_closing(self) -> bool:
        """A lead disqualified while still open is offered closing as lost, before its card."""
        return (
            self.card is not None
            and self.step.result.level is QualificationLevel.DISQUALIFIED
            and self.card.deal.is_open
        )


async def current_step(
    uow: UnitOfWork, book: SalesBook, actor: Actor, deal_id: int
) -> QualificationStep:
    async with uow:
        return (await _current(uow, book, actor, deal_id))[1]


async def answer(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    actor: Actor,
    deal_id: int,
    question_id: str,
    option_index: int,
    comment: str | None = None,
) -> QualificationStep:
    """Store one answer (with what the manager noted about it); once all are in, the level
    (MQL / SQL / disqualified) goes on the deal."""
    given = Answer(question_id, option_index, comment)
    async with uow:
        step = (await _answer(uow, clock, book, actor, deal_id, given))[1]
        await uow.commit()
    return step


async def qualification_screen(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    calendar: WorkingCalendar,
    actor: Actor,
    deal_id: int,
    given: Answer | None = None,
    *,
    shown_in: tuple[int, int] | None = None,
) -> QualificationScreen:
    """The question to ask next or, once all are answered, the result with the deal's card: one
    transaction that stores the answer given (if any), reads the deal once and remembers the
    chat message (`shown_in`: chat id, message id) about to show the card."""
    async with uow:
        if given is None:
            deal, step = await _current(uow, book, actor, deal_id)
        else:
            deal, step = await _answer(uow, clock, book, actor, deal_id, given)
        card = None
        if step.question is None:
            card = await card_view(uow, clock, book, calendar, actor, deal)
        screen = QualificationScreen(step, card)
        shows_card = card is not None and not screen.offers_closing
        if shows_card and shown_in is not None and deal.id is not None:
            await uow.deals.remember_card(ShownCard(deal.id, actor.user_id, *shown_in))
            await uow.commit()
        elif given is not None:
            # After the card: a commit expires the deal, and the card would read it again.
            await uow.commit()
        return screen


async def _current(
    uow: UnitOfWork, book: SalesBook, actor: Actor, deal_id: int
) -> tuple[Deal, QualificationStep]:
    deal = await load_deal(uow, actor, deal_id, write=False)
    framework = book.framework_for(deal.pipeline_id)
    answers = await uow.deals.qualification_answers(deal_id, framework.id)
    return deal, _step(framework, answers)


async def _answer(
    uow: UnitOfWork, clock: Clock, book: SalesBook, actor: Actor, deal_id: int, given: Answer
) -> tuple[Deal, QualificationStep]:
    """Stores the answer in the caller's transaction, which commits it."""
    deal = await load_deal(uow, actor, deal_id, write=True)
    framework = book.framework_for(deal.pipeline_id)
    answers = dict(await uow.deals.qualification_answers(deal_id, framework.id))
    answers[given.question_id] = given.option_index
    result = score(framework, answers)  # raises for an unknown question or option
    await uow.deals.save_qualification_answer(
        deal_id,
        framework.id,
        given.question_id,
        given.option_index,
        actor.user_id,
        clock.now(),
        clean_comment(given.comment),
    )
    if result.is_complete:
        deal.record_qualification(result)
        await uow.deals.save(deal)
    return deal, _step(framework, answers)


def _step(framework: QualificationFramework, answers: Mapping[str, int]) -> QualificationStep:
    return QualificationStep(
        framework,
        next_question(framework, answers),
        score(framework, answers),
        matching_lost_reason(framework, answers),
    )
