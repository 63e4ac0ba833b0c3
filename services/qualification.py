"""Qualifying a lead with the book's framework, one question at a time. Every answer is stored
as it is given, so a qualification interrupted by /cancel or a restart resumes where it was."""

from __future__ import annotations

from dataclasses import dataclass

from domain.book_qualification import QualificationFramework, Question
from domain.clock import Clock
from domain.deal import clean_comment
from domain.qualification import (
    QualificationResult,
    matching_lost_reason,
    next_question,
    score,
)
from domain.sales_book import SalesBook
from services.access import load_deal
from services.staff import Actor
from services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class QualificationStep:
    framework: QualificationFramework
    question: Question | None
    """None once every question is answered."""
    result: QualificationResult
    lost_reason: str | None = None
    """The lost reason the answers point to (see `matching_lost_reason`)."""


async def current_step(
    uow: UnitOfWork, book: SalesBook, actor: Actor, deal_id: int
) -> QualificationStep:
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=False)
        framework = book.framework_for(deal.pipeline_id)
        answers = await uow.deals.qualification_answers(deal_id, framework.id)
    return QualificationStep(
        framework,
        next_question(framework, answers),
        score(framework, answers),
        matching_lost_reason(framework, answers),
    )


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
    async with uow:
        deal = await load_deal(uow, actor, deal_id, write=True)
        framework = book.framework_for(deal.pipeline_id)
        answers = dict(await uow.deals.qualification_answers(deal_id, framework.id))
        answers[question_id] = option_index
        result = score(framework, answers)  # raises for an unknown question or option
        await uow.deals.save_qualification_answer(
            deal_id,
            framework.id,
            question_id,
            option_index,
            actor.user_id,
            clock.now(),
            clean_comment(comment),
        )
        if result.is_complete:
            deal.record_qualification(result)
            await uow.deals.save(deal)
        await uow.commit()
    return QualificationStep(
        framework,
        next_question(framework, answers),
        result,
        matching_lost_reason(framework, answers),
    )
