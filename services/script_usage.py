"""Objection answers in use: which A/B variant a manager is shown, and whether it helped."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from domain.clock import Clock
from domain.roles import Action, require
from domain.scripts import Feedback, Objection, ScriptLibrary, Variant, pick_variant
from services.access import load_deal
from services.staff import Actor
from storage.models import ScriptUseRow
from storage.unit_of_work import UnitOfWork


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
        counts = await uow.session.execute(
            select(ScriptUseRow.variant_id, func.count(ScriptUseRow.id))
            .where(ScriptUseRow.objection_id == objection_id)
            .group_by(ScriptUseRow.variant_id)
        )
        variant = pick_variant(objection, dict(counts.tuples().all()))
        use = ScriptUseRow(
            objection_id=objection.id,
            variant_id=variant.id,
            staff_id=actor.user_id,
            deal_id=deal_id,
            at=clock.now(),
        )
        uow.session.add(use)
        await uow.commit()
    return ShownScript(objection, variant, use.id)


async def give_feedback(
    uow: UnitOfWork, clock: Clock, actor: Actor, use_id: int, feedback: Feedback
) -> None:
    async with uow:
        use = await uow.session.get(ScriptUseRow, use_id)
        if use is None or use.staff_id != actor.user_id or use.outcome is not None:
            raise ScriptUseUnknown(use_id)
        use.outcome = feedback.value
        use.outcome_at = clock.now()
        await uow.commit()
