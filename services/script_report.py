"""The A/B report of objection scripts: per objection, each variant's "helped" rate and the later
win rate of the deals it was used on, with a verdict only where the difference is meaningful."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from domain.abtest import Comparison, Proportion, compare
from domain.kpi import Period
from domain.roles import Action, require
from services.staff import Actor
from services.unit_of_work import ReportingUnitOfWork


@dataclass(frozen=True, slots=True)
class VariantResult:
    variant_id: str
    uses: int
    helped: Proportion
    """Of the uses rated "helped" / "didn't help"."""
    won: Proportion
    """Of the closed deals it was used on."""


@dataclass(frozen=True, slots=True)
class ObjectionResult:
    objection_id: str
    variants: list[VariantResult]
    helped: Comparison
    won: Comparison
    """Both compare the first two variants (in id order); None verdicts mean not enough data."""


async def script_ab(
    uow: ReportingUnitOfWork, actor: Actor, period: Period
) -> list[ObjectionResult]:
    require(actor.role, Action.VIEW_REPORTS)
    async with uow:
        rows = await uow.reports.script_variants(period.start, period.end)
    results = []
    for objection_id, group in groupby(rows, key=lambda row: row[0]):
        variants = [
            VariantResult(variant, uses, Proportion(helped, rated), Proportion(won, closed))
            for _, variant, uses, rated, helped, closed, won in group
        ]
        if len(variants) < 2:
            continue
        first, second = variants[0], variants[1]
        results.append(
            ObjectionResult(
                objection_id,
                variants,
                compare(first.helped, second.helped),
                compare(first.won, second.won),
            )
        )
    return results
