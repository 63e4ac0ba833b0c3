"""Objection answers in use: which A/B variant a manager is shown, and whether it helped."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from domain.clock import Clock
from domain.roles import Action, require
from domain.script_use import ScriptUse
from domain.scripts import Feedback, Objection, ScriptLibrary, Variant, pick_variant
from services.access import load_deal
from services.staff import Actor
from services.unit_of_work import UnitOfWork


class ScriptUseUnknown(LookupError):
    """No such use, it is somebody else's, or its feedback was already given."""


@dataclass(frozen=True, slots=True)
class ShownScript:
    objection: Objection
    variant: Variant
    use_id: int


async def show_objection(
    uow: UnitOfWork,
    clock: Clock,
    library: ScriptLibrary,
    actor: Actor,
    objection_id: str,
    deal_id: int | None,
) -> ShownScript:
    """Pick the variant by rotation (the least shown so far) and record that it was shown."""
    require(actor.role, Action.VIEW_SCRIPTS)
    objection = library.objection(objection_id)
    async with uow:
        if deal_id is not None:
            await load_deal(uow, actor, deal_id, write=False)
        variant = pick_variant(objection, await uow.script_uses.shown_by_variant(objection_id))
        use = await uow.script_uses.add(
            ScriptUse(objection.id, variant.id, actor.user_id, deal_id, clock.now())
        )
        await uow.commit()
    assert use.id is not None
    return ShownScript(objection, variant, use.id)


async def give_feedback(
    uow: UnitOfWork, clock: Clock, actor: Actor, use_id: int, feedback: Feedback
) -> None:
    async with uow:
        use = await uow.script_uses.get(use_id)
        if use is None or use.staff_id != actor.user_id or use.outcome is not None:
            raise ScriptUseUnknown(use_id)
        given = dataclasses.replace(use, outcome=feedback.value, outcome_at=clock.now())
        await uow.script_uses.save(given)
        await uow.commit()
