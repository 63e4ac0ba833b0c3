"""The one way a use case reaches a deal on someone's behalf: `load_deal` reads it and applies
the domain's access rule (`domain.roles.may_see` / `may_change`), for the chat's buttons and
every other face alike."""

from __future__ import annotations

from domain.deal import Deal
from domain.roles import deal_action, is_hidden_from, require
from services.staff import Actor
from services.unit_of_work import UnitOfWork


class DealNotFound(LookupError):
    """No such deal, or one this person may not even know exists (a colleague's /training)."""

    def __init__(self, deal_id: int) -> None:
        super().__init__(deal_id)
        self.deal_id = deal_id


async def load_deal(uow: UnitOfWork, actor: Actor, deal_id: int, *, write: bool) -> Deal:
    """The deal, if this person may see it (`write=False`) or change it (`write=True`); raises
    `DealNotFound`, or `PermissionDenied` for a deal that is not theirs to see or change. Call
    inside the caller's `async with uow`."""
    deal = await uow.deals.get(deal_id)
    if deal is None or is_hidden_from(deal, actor.user_id):
        raise DealNotFound(deal_id)
    require(actor.role, deal_action(deal, actor.user_id, write=write))
    return deal
