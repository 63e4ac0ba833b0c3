"""Pay and activity figures worked out by hand. The scheme is the bundled book's manager scheme:
fixed 60,000; 5 % of won revenue, 8 % of subscriptions; 20,000 from 100 % of the plan, 50,000
from 120 %. The plan is 1,000,000."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.book_motivation import PayScheme
from domain.motivation import ActivityProgress, earnings

SCHEME = PayScheme.model_validate(
    {
        "fixed": 60000,
        "commission": 0.05,
        "commission_by_product": {"subscription": 0.08},
        "bonuses": [{"at": 1.0, "amount": 20000}, {"at": 1.2, "amount": 50000}],
    }
)
PLAN = Decimal(1_000_000)


def test_below_plan_commission_by_product_and_no_bonus() -> None:
    # 600,000 x 5 % + 100,000 x 8 % = 30,000 + 8,000 = 38,000; 70 % of plan: no bonus.
    pay = earnings(
        SCHEME,
        PLAN,
        {"implementation": Decimal(600_000), "subscription": Decimal(100_000)},
        Decimal(175_000),
    )
    assert (pay.revenue, pay.commission, pay.bonus) == (
        Decimal(700_000),
        Decimal(38_000),
        Decimal(0),
    )
    assert pay.total == Decimal(98_000)
    assert pay.fulfilment == Decimal("0.7")
    # One more 175,000 deal: 8,750 commission; 875,000 is still below the plan.
    assert pay.one_more_deal == Decimal("8750.00")
    assert pay.next_step is not None and pay.next_step.at == 1
    assert pay.to_next_step == Decimal(300_000)


def test_at_plan_the_first_step_and_one_more_deal_reaching_the_second() -> None:
    # 1,000,000 x 5 % = 50,000 and the 100 % bonus of 20,000: 130,000 in all.
    pay = earnings(SCHEME, PLAN, {"implementation": Decimal(1_000_000)}, Decimal(250_000))
    assert (pay.commission, pay.bonus, pay.total) == (
        Decimal(50_000),
        Decimal(20_000),
        Decimal(130_000),
    )
    # One more 250,000 deal makes 1,250,000 = 125 %: 12,500 commission and the bonus rises
    # from 20,000 to 50,000: 12,500 + 30,000 = 42,500.
    assert pay.one_more_deal == Decimal("42500.00")
    assert pay.to_next_step == Decimal(200_000)


def test_over_plan_only_the_highest_step_counts() -> None:
    # 1,300,000 = 130 %: 65,000 commission and 50,000 (not 20,000 + 50,000).
    pay = earnings(SCHEME, PLAN, {"implementation": Decimal(1_300_000)}, Decimal(325_000))
    assert (pay.commission, pay.bonus, pay.total) == (
        Decimal(65_000),
        Decimal(50_000),
        Decimal(175_000),
    )
    assert pay.next_step is None and pay.to_next_step is None
    assert pay.one_more_deal == Decimal("16250.00")  # 325,000 x 5 %, no step left


def test_one_more_deal_that_makes_the_plan_brings_its_bonus() -> None:
    # 900,000 + 150,000 = 105 %: 7,500 commission and the 20,000 bonus.
    pay = earnings(SCHEME, PLAN, {"implementation": Decimal(900_000)}, Decimal(150_000))
    assert pay.one_more_deal == Decimal("27500.00")


@pytest.mark.parametrize("plan", [None, Decimal(0)])
def test_without_a_plan_there_is_no_bonus_and_no_share(plan: Decimal | None) -> None:
    pay = earnings(SCHEME, plan, {"implementation": Decimal(2_000_000)}, None)
    assert (pay.bonus, pay.fulfilment, pay.one_more_deal) == (Decimal(0), None, None)
    assert pay.total == Decimal(160_000)  # 60,000 + 100,000


def test_activity_progress_names_what_is_missing() -> None:
    progress = ActivityProgress(
        done={"call": 12, "meeting": 2, "note": 4},
        targets={"call": 15, "meeting": 2, "proposal": 1},
    )
    assert progress.missing == {"call": 3, "proposal": 1}
    assert progress.behind
    assert not ActivityProgress(done={"call": 15}, targets={"call": 15}).behind
