"""The funnel of a pipeline: how many of a period's deals reached each stage, the conversion
from each stage to the next against the book's target, and the weakest step (the conversion
furthest below its target, or nearest above it when none falls short)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.sales_book import Pipeline


@dataclass(frozen=True, slots=True)
class FunnelStep:
    stage_id: str
    reached: int
    """Deals that entered this stage or a later one."""
    conversion: Decimal | None
    """reached(next) / reached(this); None for the last stage or when none reached this one."""
    target: Decimal

    @property
    def margin(self) -> Decimal | None:
        return None if self.conversion is None else self.conversion - self.target


@dataclass(frozen=True, slots=True)
class Funnel:
    pipeline_id: str
    steps: list[FunnelStep]

    @property
    def weakest(self) -> FunnelStep | None:
        measured = [step for step in self.steps if step.margin is not None]
        return min(measured, key=lambda step: step.margin or Decimal(0), default=None)


def build_funnel(pipeline: Pipeline, furthest: Mapping[int, int]) -> Funnel:
    """`furthest` maps a stage index to how many deals got no further than that stage."""
    count = len(pipeline.stages)
    reached = [sum(n for index, n in furthest.items() if index >= i) for i in range(count)]
    steps = []
    for i, stage in enumerate(pipeline.stages):
        has_next = i + 1 < count and reached[i] > 0
        conversion = Decimal(reached[i + 1]) / Decimal(reached[i]) if has_next else None
        steps.append(
            FunnelStep(stage.id, reached[i], conversion, Decimal(str(stage.target_conversion)))
        )
    return Funnel(pipeline.id, steps)
