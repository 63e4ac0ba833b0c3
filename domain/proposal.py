"""Commercial proposals: the economic effect of the product for one client.

The model is fixed in shape, so a sales book cannot carry formulas: the client's team loses
time on manual work, the manager enters three figures per deal (how many people, how many hours
a week each loses, what an hour costs), and the book's proposal template says which share of
those hours the product gives back. From that come the hours and money saved a year, the saving
a month, the payback period and the first year's net effect. Money is `Decimal` throughout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.book_proposals import EFFECT_INPUTS, ProposalTemplate
from domain.errors import (
    InvalidProposalInput,
    InvalidProposalInputReason,
    ProposalInputsMissing,
)
from domain.sales_book import SalesBook

INPUTS: tuple[str, ...] = EFFECT_INPUTS
"""The figures the manager enters for a deal, in the order the bot asks them."""

WHOLE_INPUTS = frozenset({"team_size"})
"""Inputs that count people, so a fraction is a typo rather than a value."""

MONTHS_PER_YEAR = 12
_WHOLE_UNITS = Decimal(1)
_TENTHS = Decimal("0.1")

_NUMBER = re.compile(r"(?P<sign>[-−–+]?)(?P<whole>[0-9]+)(?:[.,](?P<fraction>[0-9]{1,2}))?")
"""A number as typed on a phone once the spaces are gone: an optional sign (a hyphen, or the
minus and dash a phone keyboard may substitute), digits, and at most two decimals after "," or
".". Three decimals are refused rather than guessed: "1,500" is 1.5 to a Russian reader and 1500
to an English one."""


@dataclass(frozen=True)
class EconomicEffect:
    """What the product saves one client, with the figures it was computed from, so a
    proposal shows the calculation the client can check."""

    team_size: Decimal
    hours_lost_weekly: Decimal
    hourly_cost: Decimal
    recovered_share: Decimal
    weeks_per_year: int
    price: Decimal
    hours_saved_yearly: Decimal
    """Exact: team_size × hours_lost_weekly × weeks_per_year × recovered_share."""
    annual_saving: Decimal
    """hours_saved_yearly × hourly_cost, in whole units of currency."""
    monthly_saving: Decimal
    """annual_saving / 12, in whole units of currency."""
    payback_months: Decimal | None
    """price / monthly_saving to a tenth of a month; None when nothing is saved a month."""
    first_year_net: Decimal
    """annual_saving − price: negative when the product does not pay back within a year."""

    @property
    def inputs(self) -> dict[str, Decimal]:
        """The manager's figures, keyed by input id in asking order."""
        return {input_id: getattr(self, input_id) for input_id in INPUTS}


def parse_input(template: ProposalTemplate, input_id: str, text: str) -> Decimal:
    """The figure a manager typed for `input_id`: "12", "1 500", "2,5", "1 500,50".

    Spaces of any kind group thousands. Raises InvalidProposalInput with the reason and the
    template's bounds when the text is not a number, is zero or negative, is a fractional
    number of people, or lies outside the bounds; KeyError for an unknown input id.
    """
    bounds = template.effect.bounds(input_id)

    def invalid(reason: InvalidProposalInputReason) -> InvalidProposalInput:
        return InvalidProposalInput(
            input_id=input_id, reason=reason, minimum=bounds.min, maximum=bounds.max
        )

    match = _NUMBER.fullmatch("".join(text.split()))
    if match is None:
        raise invalid("not_a_number")
    whole, fraction = match.group("whole"), match.group("fraction")
    try:
        value = Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise invalid("not_a_number") from None
    if match.group("sign") not in ("", "+") or value == 0:
        raise invalid("not_positive")
    if input_id in WHOLE_INPUTS and value != value.to_integral_value():
        raise invalid("not_whole")
    if value < bounds.min:
        raise invalid("below_min")
    if value > bounds.max:
        raise invalid("above_max")
    # "12,0" and "2,50" mean 12 and 2.5; trailing zeros would only clutter the proposal.
    return value.to_integral_value() if value == value.to_integral_value() else value.normalize()


def missing_inputs(template: ProposalTemplate, known: Mapping[str, Decimal]) -> list[str]:
    """The inputs still to ask, in asking order.

    A known figure the template's bounds do not accept counts as missing too: it was entered
    for another template or before the book changed, and the proposal must not show it.
    """
    return [
        input_id
        for input_id in INPUTS
        if input_id not in known or not template.effect.bounds(input_id).contains(known[input_id])
    ]


def economic_effect(template: ProposalTemplate, inputs: Mapping[str, Decimal]) -> EconomicEffect:
    """The effect of `template`'s product for a client with these figures.

    Raises ProposalInputsMissing when an input is absent (or outside its bounds: the message
    for those is the one `parse_input` gives, so they are asked again).
    """
    missing = missing_inputs(template, inputs)
    if missing:
        raise ProposalInputsMissing(missing=missing)
    assumptions = template.effect
    team_size = inputs["team_size"]
    hours_lost_weekly = inputs["hours_lost_weekly"]
    hourly_cost = inputs["hourly_cost"]
    hours_saved_yearly = (
        team_size * hours_lost_weekly * assumptions.weeks_per_year * assumptions.recovered_share
    )
    annual_saving = _whole(hours_saved_yearly * hourly_cost)
    monthly_saving = _whole(annual_saving / MONTHS_PER_YEAR)
    payback_months = (
        None
        if monthly_saving == 0
        else (template.price / monthly_saving).quantize(_TENTHS, rounding=ROUND_HALF_UP)
    )
    return EconomicEffect(
        team_size=team_size,
        hours_lost_weekly=hours_lost_weekly,
        hourly_cost=hourly_cost,
        recovered_share=assumptions.recovered_share,
        weeks_per_year=assumptions.weeks_per_year,
        price=template.price,
        hours_saved_yearly=hours_saved_yearly,
        annual_saving=annual_saving,
        monthly_saving=monthly_saving,
        payback_months=payback_months,
        first_year_net=annual_saving - template.price,
    )


def template_for(
    book: SalesBook, product_id: str, segment_id: str | None
) -> ProposalTemplate | None:
    """The proposal for a deal: the product's template for its segment, else the product's
    template for every segment, else None (the book has no proposal for this product)."""
    for_every_segment: ProposalTemplate | None = None
    for template in book.proposals:
        if template.product != product_id:
            continue
        if segment_id is not None and template.segment == segment_id:
            return template
        if template.segment is None:
            for_every_segment = template
    return for_every_segment


def _whole(amount: Decimal) -> Decimal:
    return amount.quantize(_WHOLE_UNITS, rounding=ROUND_HALF_UP)
