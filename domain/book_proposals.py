"""The sales book's `proposals:` section: commercial proposal templates.

A template per product (and optionally segment): value arguments, the economic-effect model,
the price and success stories. Computing the effect and filling the proposal is
`domain.proposal`'s job.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Self

from pydantic import Field, model_validator

from domain.book_fields import BookModel, BookProblems, Identifier, NonEmptyText

ValueResult = Literal["cost_saved", "time_saved", "revenue_gained"]
"""What a value argument promises: lower costs, faster work or more revenue."""

EFFECT_INPUTS: tuple[str, ...] = ("team_size", "hours_lost_weekly", "hourly_cost")
"""The figures a manager enters per deal for the economic effect, in the order they are asked;
each is a field of `EffectAssumptions` holding its bounds."""

# Length limits of a proposal's texts: with the item counts below they keep even a template
# that uses every limit within two printed A4 pages.
PROPOSAL_TITLE_LIMIT = 120
PROPOSAL_ARGUMENT_LIMIT = 250
PROPOSAL_STORY_CLIENT_LIMIT = 120
PROPOSAL_STORY_RESULT_LIMIT = 300
PROPOSAL_PRICE_NOTE_LIMIT = 300


class ValueArgument(BookModel):
    """One reason to buy, stated as a concrete result for the client."""

    result: ValueResult
    text: NonEmptyText = Field(max_length=PROPOSAL_ARGUMENT_LIMIT)


class SuccessStory(BookModel):
    client: NonEmptyText = Field(max_length=PROPOSAL_STORY_CLIENT_LIMIT)
    """Who the client is, e.g. "Производитель упаковки, 120 сотрудников"."""
    result: NonEmptyText = Field(max_length=PROPOSAL_STORY_RESULT_LIMIT)


class InputBounds(BookModel):
    """The range of believable values for one figure the manager enters; anything outside it
    is a typo (an extra zero, a phone number) rather than a client."""

    min: Decimal = Field(gt=0)
    max: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.min > self.max:
            raise BookProblems(
                [(("min",), f"must not be greater than max ({self.max}), got {self.min}")]
            )
        return self

    def contains(self, value: Decimal) -> bool:
        return self.min <= value <= self.max


class EffectAssumptions(BookModel):
    """The fixed model of the economic effect: the client's team loses hours on manual work,
    and the product gives a share of them back.

    The manager enters team_size, hours_lost_weekly and hourly_cost for each deal; the book
    says how much of the lost time the product recovers and which figures are believable.
    """

    recovered_share: Decimal = Field(gt=0, le=1)
    """Share of the lost hours the product gives back (0.4 = 40 %)."""
    weeks_per_year: int = Field(default=48, gt=0, le=53)
    """Working weeks in a year, without holidays and vacations."""
    team_size: InputBounds
    """People who do the manual work."""
    hours_lost_weekly: InputBounds
    """Hours one person loses on manual work in a week."""
    hourly_cost: InputBounds
    """What an hour of one person's work costs the client, in the book's currency."""

    def bounds(self, input_id: str) -> InputBounds:
        """The bounds of one of the manager's inputs; KeyError for an unknown input."""
        if input_id not in EFFECT_INPUTS:
            raise KeyError(input_id)
        bounds: InputBounds = getattr(self, input_id)
        return bounds


class ProposalTemplate(BookModel):
    """A commercial proposal for one product (and optionally one segment): value arguments,
    the economic-effect model, the price and success stories."""

    id: Identifier
    product: Identifier
    segment: Identifier | None = None
    """None: the proposal for every segment that has no template of its own."""
    title: NonEmptyText = Field(max_length=PROPOSAL_TITLE_LIMIT)
    arguments: list[ValueArgument] = Field(min_length=1, max_length=6)
    effect: EffectAssumptions
    price: Decimal = Field(gt=0, decimal_places=2)
    """One-off price in the book's currency."""
    price_note: str = Field(default="", max_length=PROPOSAL_PRICE_NOTE_LIMIT)
    stories: list[SuccessStory] = Field(min_length=1, max_length=2)
