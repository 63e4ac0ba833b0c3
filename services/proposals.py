"""A deal's commercial proposal: the book's template for its product and segment, the figures the
manager enters (kept on the deal, so the next proposal asks only what is missing), and "proposal
sent" on the deal's history once the client has it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from domain.activity import Activity
from domain.book_proposals import ProposalTemplate
from domain.clock import Clock
from domain.deal import Deal
from domain.errors import DealClosed, DomainError
from domain.proposal import missing_inputs, parse_input, template_for
from domain.sales_book import SalesBook
from services.access import load_deal
from services.first_response import client_answered
from services.staff import Actor
from services.unit_of_work import UnitOfWork
from services.workspace import ActivityKind


@dataclass(eq=False)
class NoProposalTemplate(DomainError):
    """The sales book has no proposal for this deal's product (and segment)."""

    product: str


@dataclass(frozen=True, slots=True)
class ProposalDraft:
    """Where a deal's proposal stands: its template, the figures entered, what is missing."""

    deal: Deal
    template: ProposalTemplate
    figures: dict[str, Decimal]
    missing: list[str]
    client_name: str
    client_company: str | None
    manager_name: str


async def proposal_draft(
    uow: UnitOfWork, book: SalesBook, actor: Actor, deal_id: int
) -> ProposalDraft:
    """The proposal of an open deal this person may work on."""
    async with uow:
        deal = await _workable_deal(uow, actor, deal_id)
        pipeline = book.pipeline(deal.pipeline_id)
        template = template_for(book, pipeline.product, pipeline.segment)
        if template is None:
            raise NoProposalTemplate(pipeline.product)
        figures = await uow.deals.proposal_figures(deal_id)
        contact = await uow.contacts.get(deal.contact_id) if deal.contact_id else None
        names = await uow.staff.names([deal.manager_id] if deal.manager_id else [])
    return ProposalDraft(
        deal=deal,
        template=template,
        figures=figures,
        missing=missing_inputs(template, figures),
        client_name=(contact.name if contact else None) or "—",
        client_company=contact.company if contact else None,
        manager_name=(names.get(deal.manager_id) if deal.manager_id else None) or actor.first_name,
    )


async def enter_figure(
    uow: UnitOfWork,
    clock: Clock,
    book: SalesBook,
    actor: Actor,
    deal_id: int,
    input_id: str,
    text: str,
) -> ProposalDraft:
    """Keep one figure as typed (raises InvalidProposalInput with the template's bounds)."""
    draft = await proposal_draft(uow, book, actor, deal_id)
    value = parse_input(draft.template, input_id, text)
    async with uow:
        await uow.deals.set_proposal_figure(deal_id, input_id, value, actor.user_id, clock.now())
        await uow.commit()
    figures = {**draft.figures, input_id: value}
    return replace(draft, figures=figures, missing=missing_inputs(draft.template, figures))


async def forget_figures(
    uow: UnitOfWork, book: SalesBook, actor: Actor, deal_id: int
) -> ProposalDraft:
    """Start the figures over (the manager got better numbers from the client)."""
    async with uow:
        await _workable_deal(uow, actor, deal_id)
        await uow.deals.clear_proposal_figures(deal_id)
        await uow.commit()
    return await proposal_draft(uow, book, actor, deal_id)


async def proposal_sent(
    uow: UnitOfWork, clock: Clock, actor: Actor, deal_id: int, comment: str, relay_text: str
) -> None:
    """The client has the proposal: kept on the deal's message history and logged as the
    "proposal" activity (which ticks the stage's criterion where the book says so)."""
    async with uow:
        deal = await _workable_deal(uow, actor, deal_id)
        now = clock.now()
        await client_answered(uow, deal, now)
        uow.deals.log_message(deal_id, "out", actor.user_id, "document", relay_text, now)
        uow.activities.add(
            Activity(deal_id, ActivityKind.PROPOSAL.value, actor.user_id, now, comment)
        )
        await uow.commit()


async def _workable_deal(uow: UnitOfWork, actor: Actor, deal_id: int) -> Deal:
    deal = await load_deal(uow, actor, deal_id, write=True)
    if not deal.is_open:
        raise DealClosed(deal.id, deal.status)
    return deal
