"""The sales book's `motivation:` and `activity_targets:` sections: pay schemes per role and
daily activity targets. Computing pay and progress is `domain.motivation`'s job."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, Self, get_args

from pydantic import Field, model_validator

from domain.book_fields import (
    ActivityKindName,
    BookModel,
    BookProblems,
    ClockTime,
    Identifier,
    Loc,
    Share,
)


class BonusStep(BookModel):
    at: Decimal = Field(gt=0)
    """Plan fulfilment from which this bonus is earned: 1.0 is the plan made, 1.2 is 120 %."""
    amount: Decimal = Field(ge=0)


class PayScheme(BookModel):
    """A role's pay for a month: the fixed part, a commission on won revenue (by product where
    the book says so), and the bonus of the highest plan-fulfilment step reached."""

    fixed: Decimal = Field(ge=0)
    commission: Share
    """Share of won revenue: the deals a manager won, the team's for a supervisor."""
    commission_by_product: dict[Identifier, Share] = Field(default_factory=dict)
    bonuses: list[BonusStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_steps(self) -> Self:
        steps = [step.at for step in self.bonuses]
        if steps != sorted(set(steps)):
            raise BookProblems(
                [(("bonuses",), f"steps must rise from one to the next, got {steps}")]
            )
        return self


class ActivityTargets(BookModel):
    """Daily targets of logged activities per role, and the end-of-day nudge."""

    daily: dict[Literal["manager", "supervisor"], dict[str, int]] = Field(default_factory=dict)
    """Per role, per activity kind (`ActivityKindName`), how many a working day."""
    nudge: bool = True
    """Remind a manager below target once, near the end of the working day."""
    nudge_at: ClockTime = dt.time(17, 0)

    @model_validator(mode="after")
    def _check_targets(self) -> Self:
        kinds = get_args(ActivityKindName)
        problems: list[tuple[Loc, str]] = [
            (("daily", role, kind), f"must be a whole number from 1 to 500, got {target}")
            for role, targets in self.daily.items()
            for kind, target in targets.items()
            if not 1 <= target <= 500
        ]
        problems += [
            (("daily", role, kind), f"unknown activity; the activities are: {', '.join(kinds)}")
            for role, targets in self.daily.items()
            for kind in targets
            if kind not in kinds
        ]
        if problems:
            raise BookProblems(problems)
        return self
