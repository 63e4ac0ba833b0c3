"""Handing deals to another manager: one deal from its card, or all of a manager's open deals
from /team (a manager on leave, or leaving). The lead's chat follows the deal, because the relay
always reads the deal's current manager."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.clock import Clock
from domain.deal import Deal, Reassignment
from domain.reminders import PlannedReminder, owe_card, owe_note
from domain.roles import Action, Role, require
from domain.staff import StaffMember
from services.access import DealNotFound
from services.staff import Actor, StaffError
from services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Colleague:
    user_id: int
    name: str
    language_code: str | None
    open_deals: int
    receives_messages: bool = True
    """Still on the team and not blocking the bot: told of a handover."""


@dataclass(frozen=True, slots=True)
class Handover:
    deal_ids: list[int]
    from_manager: Colleague | None
    """None for deals that waited in the queue."""
    to_manager: Colleague
    at: dt.datetime
    clients_told: list[int]
    """Deals whose client was told a manager's name when it was taken: they are told the new
    one's (the others learn it when the new manager takes the deal)."""


async def managers(uow: UnitOfWork, actor: Actor) -> list[Colleague]:
    """Active managers with how many open deals each has: who a deal can go to."""
    require(actor.role, Action.REASSIGN)
    async with uow:
        counts = await uow.deals.open_counts_by_manager()
        return [
            _colleague(member, counts) for member in await uow.staff.active_with_role(Role.MANAGER)
        ]


async def holder(uow: UnitOfWork, actor: Actor, user_id: int) -> Colleague | None:
    """Someone whose deals may be handed over: any staff member, deactivated ones included
    (their deals are exactly the ones that must move)."""
    require(actor.role, Action.REASSIGN)
    async with uow:
        member = await uow.staff.get(user_id)
        if member is None:
            return None
        return _colleague(member, await uow.deals.open_counts_by_manager())


async def reassign_deal(
    uow: UnitOfWork, clock: Clock, actor: Actor, deal_id: int, to_manager_id: int
) -> Handover:
    require(actor.role, Action.REASSIGN)
    async with uow:
        deal = await uow.deals.get(deal_id)
        if deal is None or deal.is_sandbox:  # a trainee's deal goes to nobody else
            raise DealNotFound(deal_id)
        handover = await _hand_over(uow, clock, actor, [deal], deal.manager_id, to_manager_id)
        await uow.commit()
        return handover


async def reassign_all(
    uow: UnitOfWork, clock: Clock, actor: Actor, from_manager_id: int, to_manager_id: int
) -> Handover:
    """Every open deal of one manager to another; closed deals keep who won or lost them."""
    require(actor.role, Action.REASSIGN)
    async with uow:
        deals = await uow.deals.open_deals(manager_id=from_manager_id)
        handover = await _hand_over(uow, clock, actor, deals, from_manager_id, to_manager_id)
        await uow.commit()
        return handover


async def _hand_over(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    deals: list[Deal],
    from_manager_id: int | None,
    to_manager_id: int,
) -> Handover:
    target = await uow.staff.get(to_manager_id)
    if target is None or not target.is_active or target.role is not Role.MANAGER:
        raise StaffError("not_a_manager")
    source = await uow.staff.get(from_manager_id) if from_manager_id is not None else None
    now = clock.now()
    moved: list[Reassignment] = []
    for deal in deals:
        moved.append(deal.reassign(to_manager_id, actor.user_id, now))
        await uow.deals.save(deal)
        uow.deals.record_reassignment(moved[-1])
    handover = Handover(
        deal_ids=[r.deal_id for r in moved if r.deal_id is not None],
        from_manager=_colleague(source) if source else None,
        to_manager=_colleague(target),
        at=now,
        clients_told=[
            deal.id
            for deal in deals
            if deal.id is not None and deal.taken_at is not None and deal.lead_chat_id is not None
        ],
    )
    await uow.reminders.plan(_owed_notices(handover), now)
    return handover


def _owed_notices(handover: Handover) -> list[PlannedReminder]:
    """The new manager gets the deal's card (or, for many deals, how many and from whom); the
    previous manager learns where their deals went; a client who was given the previous
    manager's name, the new one's. Written with the handover, so a crash right after it loses
    none of them."""
    new, old, deal_ids, now = (
        handover.to_manager,
        handover.from_manager,
        handover.deal_ids,
        handover.at,
    )
    if not deal_ids:
        return []
    owed: list[PlannedReminder] = []
    if len(deal_ids) == 1:
        owed.append(owe_card(deal_ids[0], now, to_staff=new.user_id, title="card.handed_title"))
    elif old is None:
        owed.append(
            owe_note(
                now, "handover.received_many_queue", {"count": len(deal_ids)}, to_staff=new.user_id
            )
        )
    else:
        values: dict[str, str | int] = {"count": len(deal_ids), "name": old.name}
        owed.append(owe_note(now, "handover.received_many", values, to_staff=new.user_id))
    if old is not None:
        if len(deal_ids) == 1:
            key, values = "handover.given_one", {"deal_id": deal_ids[0], "name": new.name}
        else:
            key, values = "handover.given_many", {"count": len(deal_ids), "name": new.name}
        owed.append(owe_note(now, key, values, to_staff=old.user_id))
    for deal_id in handover.clients_told:
        told: dict[str, str | int] = {"deal_id": deal_id, "manager": new.name}
        owed.append(owe_note(now, "lead.handed_over", told, to_client_of=deal_id))
    return owed


def _colleague(member: StaffMember, open_counts: dict[int, int] | None = None) -> Colleague:
    return Colleague(
        user_id=member.telegram_id,
        name=member.first_name or str(member.telegram_id),
        language_code=member.language_code,
        open_deals=(open_counts or {}).get(member.telegram_id, 0),
        receives_messages=member.receives_messages,
    )
