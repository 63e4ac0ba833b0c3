"""Two requests with one phone: a typed phone is a claim, so they stay two clients until the
deal's manager (or a supervisor) looks at both chats and confirms they are one person."""

from __future__ import annotations

from dataclasses import dataclass

from domain.contact import Contact
from domain.deal import Deal
from services.access import load_deal
from services.staff import Actor
from services.unit_of_work import UnitOfWork


class NothingToMerge(LookupError):
    """The deal has no other client with its phone (any more): merged already, or never."""


@dataclass(frozen=True, slots=True)
class ClientChat:
    """One side of a merge: a deal, its client, and the Telegram chat it talks in."""

    deal_id: int
    name: str | None
    username: str | None
    chat_id: int | None


@dataclass(frozen=True, slots=True)
class MergeProposal:
    kept: ClientChat
    """The client first known by this phone: the merged client keeps their card."""
    joining: ClientChat
    """The request that typed the same phone."""


async def merge_proposal(uow: UnitOfWork, actor: Actor, deal_id: int) -> MergeProposal:
    """What a merge would join, for the person to check both chats before confirming."""
    async with uow:
        deal, other, joining, kept = await _both_sides(uow, actor, deal_id)
        return MergeProposal(_side(other, kept), _side(deal, joining))


async def merge_clients(uow: UnitOfWork, actor: Actor, deal_id: int) -> MergeProposal:
    """One client from now on: the joining client's deals move to the kept client's card and
    the joining account files its next requests there. Each deal keeps its own chat, so
    nothing of one chat's deals is ever shown in the other."""
    async with uow:
        deal, other, joining, kept = await _both_sides(uow, actor, deal_id)
        proposal = MergeProposal(_side(other, kept), _side(deal, joining))
        if joining.id is not None and joining.id != kept.id:
            for moving in await uow.deals.for_contact(joining.id):
                if moving.id != deal.id:
                    moving.contact_id, moving.same_phone_as = kept.id, None
                    await uow.deals.save(moving)
            joining.merged_into_id = kept.id
            kept.company = kept.company or joining.company
            await uow.contacts.save(joining)
            await uow.contacts.save(kept)
        deal.contact_id, deal.same_phone_as = kept.id, None
        await uow.deals.save(deal)
        await uow.commit()
        return proposal


async def _both_sides(
    uow: UnitOfWork, actor: Actor, deal_id: int
) -> tuple[Deal, Deal, Contact, Contact]:
    deal = await load_deal(uow, actor, deal_id, write=True)
    if deal.same_phone_as is None:
        raise NothingToMerge(deal_id)
    other = await uow.deals.get(deal.same_phone_as)
    if other is None or other.contact_id is None or deal.contact_id is None:
        raise NothingToMerge(deal_id)
    joining = await uow.contacts.get(deal.contact_id)
    kept = await uow.contacts.get(other.contact_id)
    if joining is None or kept is None or kept.erased_at is not None:
        raise NothingToMerge(deal_id)
    return deal, other, joining, kept


def _side(deal: Deal, contact: Contact) -> ClientChat:
    assert deal.id is not None
    return ClientChat(deal.id, contact.name, contact.username, deal.lead_chat_id)
