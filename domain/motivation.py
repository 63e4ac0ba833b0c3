"""Pay and activity for a month, defined once here (the README repeats it in words).

- **commission**: each product's won revenue times its rate (the book's `commission_by_product`,
  else the scheme's `commission`); a manager's base is the deals they won this month, a
  supervisor's the team's.
- **bonus**: the amount of the highest `bonuses` step whose `at` (a share of the plan) the month's
  fulfilment has reached; steps do not add up. No plan, no bonus.
- **earned so far**: fixed + commission + bonus; the payroll estimate adds these up.
- **one more deal**: what one more average deal (the person's own average won deal this month,
  the team's when they have none) would add: its commission at the scheme's base rate, plus the
  bonus it would unlock if it lifts the fulfilment over the next step.
- **activity progress**: activities of each kind a person logged today against the role's daily
  target; behind means below target in at least one kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.book_motivation import BonusStep, PayScheme

CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Earnings:
    plan: Decimal | None
    revenue: Decimal
    fixed: Decimal
    commission: Decimal
    bonus: Decimal
    one_more_deal: Decimal | None
    """What one more average deal would add; None without an average deal to go by."""
    next_step: BonusStep | None
    """The next bonus step not reached yet."""

    @property
    def fulfilment(self) -> Decimal | None:
        return self.revenue / self.plan if self.plan else None

    @property
    def total(self) -> Decimal:
        return self.fixed + self.commission + self.bonus

    @property
    def to_next_step(self) -> Decimal | None:
        """Revenue still needed to reach the next bonus step."""
        if self.next_step is None or not self.plan:
            return None
        return max(self.plan * self.next_step.at - self.revenue, Decimal(0)).quantize(CENTS)


def earnings(
    scheme: PayScheme,
    plan: Decimal | None,
    revenue_by_product: Mapping[str, Decimal],
    average_deal: Decimal | None,
) -> Earnings:
    revenue = sum(revenue_by_product.values(), Decimal(0))
    commission = sum(
        (amount * _rate(scheme, product) for product, amount in revenue_by_product.items()),
        Decimal(0),
    )
    bonus = bonus_for(scheme, plan, revenue)
    one_more = None
    if average_deal:
        lifted = bonus_for(scheme, plan, revenue + average_deal)
        one_more = _money(average_deal * Decimal(str(scheme.commission)) + lifted - bonus)
    return Earnings(
        plan=plan,
        revenue=revenue,
        fixed=scheme.fixed,
        commission=_money(commission),
        bonus=bonus,
        one_more_deal=one_more,
        next_step=_next_step(scheme, plan, revenue),
    )


def bonus_for(scheme: PayScheme, plan: Decimal | None, revenue: Decimal) -> Decimal:
    if not plan:
        return Decimal(0)
    reached = [step.amount for step in scheme.bonuses if revenue >= plan * step.at]
    return reached[-1] if reached else Decimal(0)


def _next_step(scheme: PayScheme, plan: Decimal | None, revenue: Decimal) -> BonusStep | None:
    if not plan:
        return None
    return next((step for step in scheme.bonuses if revenue < plan * step.at), None)


def _rate(scheme: PayScheme, product: str) -> Decimal:
    return Decimal(str(scheme.commission_by_product.get(product, scheme.commission)))


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ActivityProgress:
    """Today's logged activities against a role's daily targets, kind by kind."""

    done: Mapping[str, int]
    targets: Mapping[str, int]

    @property
    def missing(self) -> dict[str, int]:
        """How many of each kind are still to do today (kinds on target left out)."""
        return {
            kind: target - self.done.get(kind, 0)
            for kind, target in self.targets.items()
            if self.done.get(kind, 0) < target
        }

    @property
    def behind(self) -> bool:
        return bool(self.missing)
