"""The economic effect of a commercial proposal: the figures a manager types, the arithmetic,
and which template a deal gets. Every expected figure is worked out by hand in a comment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.book_loading import parse_sales_book
from domain.book_proposals import ProposalTemplate
from domain.errors import DomainError, InvalidProposalInput, ProposalInputsMissing
from domain.proposal import (
    INPUTS,
    EconomicEffect,
    economic_effect,
    missing_inputs,
    parse_input,
    template_for,
)
from domain.sales_book import DEFAULT_SALES_BOOK_PATH, SalesBook
from tests.unit.book_factory import book_data, make_book


@pytest.fixture(scope="module")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def implementation(book: SalesBook) -> ProposalTemplate:
    """The bundled book's offer to mid-size companies: recovers 40 % of the lost hours over 48
    weeks, costs 1 200 000, believes team_size 1..10000, hours_lost_weekly 0.5..60 and
    hourly_cost 50..100000."""
    return book.proposal("implementation_mid")


def template(
    *,
    recovered_share: str = "0.5",
    weeks_per_year: int = 48,
    price: str = "1000",
    segment: str | None = None,
    template_id: str = "crm_offer",
) -> ProposalTemplate:
    data: dict[str, Any] = {
        "id": template_id,
        "product": "crm",
        "segment": segment,
        "title": "CRM",
        "arguments": [{"result": "time_saved", "text": "Deals are logged automatically."}],
        "effect": {
            "recovered_share": Decimal(recovered_share),
            "weeks_per_year": weeks_per_year,
            "team_size": {"min": 1, "max": 500},
            "hours_lost_weekly": {"min": Decimal("0.5"), "max": 40},
            "hourly_cost": {"min": 50, "max": 20000},
        },
        "price": Decimal(price),
        "stories": [{"client": "A bakery", "result": "Orders doubled in a year."}],
    }
    return ProposalTemplate.model_validate(data)


def figures(team_size: str, hours_lost_weekly: str, hourly_cost: str) -> dict[str, Decimal]:
    return {
        "team_size": Decimal(team_size),
        "hours_lost_weekly": Decimal(hours_lost_weekly),
        "hourly_cost": Decimal(hourly_cost),
    }


# --- the arithmetic ---------------------------------------------------------------------------


def test_effect_of_the_bundled_implementation_offer(implementation: ProposalTemplate) -> None:
    effect = economic_effect(implementation, figures("25", "6", "900"))
    # hours a year: 25 people × 6 h × 48 weeks × 0.4 = 7200 × 0.4 = 2880
    assert effect.hours_saved_yearly == Decimal(2880)
    # a year: 2880 h × 900 = 2 592 000
    assert effect.annual_saving == Decimal(2_592_000)
    # a month: 2 592 000 / 12 = 216 000
    assert effect.monthly_saving == Decimal(216_000)
    # payback: 1 200 000 / 216 000 = 5.555… → 5.6 months
    assert effect.payback_months == Decimal("5.6")
    # first year: 2 592 000 − 1 200 000 = 1 392 000
    assert effect.first_year_net == Decimal(1_392_000)
    assert effect.inputs == figures("25", "6", "900")
    assert list(effect.inputs) == list(INPUTS)
    assert (effect.recovered_share, effect.weeks_per_year, effect.price) == (
        Decimal("0.4"),
        48,
        Decimal(1_200_000),
    )


def test_effect_with_fractional_figures() -> None:
    offer = template(recovered_share="0.35", weeks_per_year=46, price="250000")
    effect = economic_effect(offer, figures("7", "2.5", "1234.50"))
    # hours a year: 7 × 2.5 × 46 × 0.35 = 17.5 × 46 × 0.35 = 805 × 0.35 = 281.75 (kept exact)
    assert effect.hours_saved_yearly == Decimal("281.75")
    # a year: 281.75 × 1234.50 = 281 750 + 66 070.375 = 347 820.375 → 347 820
    assert effect.annual_saving == Decimal(347_820)
    # a month: 347 820 / 12 = 28 985
    assert effect.monthly_saving == Decimal(28_985)
    # payback: 250 000 / 28 985 = 8.625… → 8.6
    assert effect.payback_months == Decimal("8.6")
    # first year: 347 820 − 250 000 = 97 820
    assert effect.first_year_net == Decimal(97_820)


def test_money_rounds_half_up_to_whole_units() -> None:
    # hours a year: 1 × 0.5 × 16 × 0.25 = 2; a year: 2 × 50.25 = 100.50 → 101 (half up, where
    # banker's rounding would give 100); a month: 101 / 12 = 8.41… → 8;
    # payback: 1000 / 8 = 125.0; first year: 101 − 1000 = −899
    offer = template(recovered_share="0.25", weeks_per_year=16, price="1000")
    effect = economic_effect(offer, figures("1", "0.5", "50.25"))
    assert effect.hours_saved_yearly == Decimal(2)
    assert effect.annual_saving == Decimal(101)
    assert effect.monthly_saving == Decimal(8)
    assert effect.payback_months == Decimal("125.0")
    assert effect.first_year_net == Decimal(-899)


def test_monthly_saving_rounds_half_up() -> None:
    # hours a year: 1 × 0.5 × 12 × 0.5 = 3; a year: 3 × 50 = 150; a month: 150 / 12 = 12.5
    # → 13 (half up); payback: 1000 / 13 = 76.92… → 76.9; first year: 150 − 1000 = −850
    offer = template(recovered_share="0.5", weeks_per_year=12, price="1000")
    effect = economic_effect(offer, figures("1", "0.5", "50"))
    assert (effect.annual_saving, effect.monthly_saving) == (Decimal(150), Decimal(13))
    assert effect.payback_months == Decimal("76.9")
    assert effect.first_year_net == Decimal(-850)


def test_payback_rounds_half_up_to_a_tenth() -> None:
    # a year: 25 × 6 × 48 × 0.4 × 900 = 2 592 000, a month 216 000 (as for the bundled offer);
    # payback: 1 177 200 / 216 000 = 5.45 exactly → 5.5 (banker's rounding would give 5.4)
    offer = template(recovered_share="0.4", price="1177200")
    effect = economic_effect(offer, figures("25", "6", "900"))
    assert effect.monthly_saving == Decimal(216_000)
    assert effect.payback_months == Decimal("5.5")


def test_no_payback_when_nothing_is_saved_a_month() -> None:
    # hours a year: 1 × 0.5 × 1 × 0.01 = 0.005; a year: 0.005 × 50 = 0.25 → 0; a month: 0
    offer = template(recovered_share="0.01", weeks_per_year=1, price="1000")
    effect = economic_effect(offer, figures("1", "0.5", "50"))
    assert (effect.annual_saving, effect.monthly_saving) == (Decimal(0), Decimal(0))
    assert effect.payback_months is None
    assert effect.first_year_net == Decimal(-1000)


def test_effect_is_a_frozen_value() -> None:
    effect = economic_effect(template(), figures("2", "1", "100"))
    assert isinstance(effect, EconomicEffect)
    with pytest.raises(AttributeError):
        effect.annual_saving = Decimal(0)  # type: ignore[misc]


# --- what the manager types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_id", "text", "expected"),
    [
        ("team_size", "12", Decimal(12)),
        ("team_size", "1 500", Decimal(1500)),
        ("team_size", "  7 ", Decimal(7)),
        ("team_size", "+3", Decimal(3)),
        ("team_size", "12,0", Decimal(12)),
        ("hours_lost_weekly", "2,5", Decimal("2.5")),
        ("hours_lost_weekly", "2.50", Decimal("2.5")),
        ("hours_lost_weekly", "0,5", Decimal("0.5")),
        ("hours_lost_weekly", "60", Decimal(60)),
        ("hourly_cost", "1 500,50", Decimal("1500.5")),
        ("hourly_cost", "1\u00a0500", Decimal(1500)),
        ("hourly_cost", "1\u202f500", Decimal(1500)),
        ("hourly_cost", "100 000", Decimal(100_000)),
    ],
)
def test_parse_input_reads_numbers_as_typed_on_a_phone(
    implementation: ProposalTemplate, input_id: str, text: str, expected: Decimal
) -> None:
    value = parse_input(implementation, input_id, text)
    assert value == expected
    assert str(value) == str(expected)  # no trailing zeros: "12,0" is shown as 12


@pytest.mark.parametrize(
    ("input_id", "text", "reason"),
    [
        ("team_size", "", "not_a_number"),
        ("team_size", "двенадцать", "not_a_number"),
        ("team_size", "12 человек", "not_a_number"),
        ("team_size", "1e3", "not_a_number"),
        ("hourly_cost", "1,500", "not_a_number"),  # 1.5 or 1500? Refused, not guessed
        ("hourly_cost", "1.500,50", "not_a_number"),
        ("hourly_cost", "NaN", "not_a_number"),
        ("team_size", "-5", "not_positive"),
        ("team_size", "\u22125", "not_positive"),  # the minus sign a phone keyboard offers
        ("hours_lost_weekly", "-2,5", "not_positive"),
        ("team_size", "0", "not_positive"),
        ("hourly_cost", "0,00", "not_positive"),
        ("team_size", "2,5", "not_whole"),
        ("hours_lost_weekly", "0,4", "below_min"),
        ("hourly_cost", "49,99", "below_min"),
        ("team_size", "10 001", "above_max"),
        ("hours_lost_weekly", "168", "above_max"),
        ("hourly_cost", "89161234567", "above_max"),  # a phone number in the wrong field
    ],
)
def test_parse_input_refuses_bad_figures_with_a_reason(
    implementation: ProposalTemplate, input_id: str, text: str, reason: str
) -> None:
    with pytest.raises(InvalidProposalInput) as caught:
        parse_input(implementation, input_id, text)
    assert (caught.value.input_id, caught.value.reason) == (input_id, reason)


def test_invalid_input_carries_the_bounds_for_the_message(
    implementation: ProposalTemplate,
) -> None:
    with pytest.raises(InvalidProposalInput) as caught:
        parse_input(implementation, "hours_lost_weekly", "61")
    error = caught.value
    assert isinstance(error, DomainError)
    assert error.reason == "above_max"
    assert (error.minimum, error.maximum) == (Decimal("0.5"), Decimal(60))
    assert "hours_lost_weekly" in str(error)


def test_parse_input_rejects_an_unknown_input(implementation: ProposalTemplate) -> None:
    with pytest.raises(KeyError):
        parse_input(implementation, "revenue", "10")


# --- what is still to ask ---------------------------------------------------------------------


def test_missing_inputs_in_asking_order(implementation: ProposalTemplate) -> None:
    assert INPUTS == ("team_size", "hours_lost_weekly", "hourly_cost")
    assert missing_inputs(implementation, {}) == list(INPUTS)
    assert missing_inputs(implementation, {"hourly_cost": Decimal(900)}) == [
        "team_size",
        "hours_lost_weekly",
    ]
    assert missing_inputs(implementation, figures("25", "6", "900")) == []


def test_a_known_figure_out_of_bounds_is_asked_again(implementation: ProposalTemplate) -> None:
    # 120 hours a week is above this template's 60: entered for another template, or before
    # the book changed.
    known = figures("25", "120", "900")
    assert missing_inputs(implementation, known) == ["hours_lost_weekly"]
    with pytest.raises(ProposalInputsMissing) as caught:
        economic_effect(implementation, known)
    assert caught.value.missing == ["hours_lost_weekly"]


def test_effect_needs_every_input(implementation: ProposalTemplate) -> None:
    with pytest.raises(ProposalInputsMissing) as caught:
        economic_effect(implementation, {"team_size": Decimal(5)})
    assert caught.value.missing == ["hours_lost_weekly", "hourly_cost"]


# --- which template a deal gets ---------------------------------------------------------------


def test_template_for_the_bundled_book(book: SalesBook) -> None:
    assert [template.id for template in book.proposals] == ["implementation_mid", "subscription"]
    chosen = template_for(book, "implementation", "mid")
    assert chosen is not None and chosen.id == "implementation_mid"
    # The subscription offer names no segment, so it serves every segment.
    for segment in ("small", "mid", None):
        chosen = template_for(book, "subscription", segment)
        assert chosen is not None and chosen.id == "subscription"
    # The implementation offer is for mid-size companies only.
    assert template_for(book, "implementation", "small") is None
    assert template_for(book, "implementation", None) is None
    assert template_for(book, "consulting", "mid") is None


def test_a_segment_template_wins_over_the_general_one_whatever_the_order() -> None:
    data = book_data()
    data["segments"].append({"id": "mid", "name": "Mid-size"})
    general = template(template_id="general").model_dump()
    for_small = template(template_id="for_small", segment="smb").model_dump()
    data["proposals"] = [general, for_small]
    book = make_book(data)
    assert template_for(book, "crm", "smb") is book.proposal("for_small")
    assert template_for(book, "crm", "mid") is book.proposal("general")
    assert template_for(book, "crm", None) is book.proposal("general")


def test_default_book_templates_are_complete(book: SalesBook) -> None:
    product_ids = {product.id for product in book.products}
    for offer in book.proposals:
        assert offer.product in product_ids
        assert 1 <= len(offer.arguments) <= 6
        assert {argument.result for argument in offer.arguments} == {
            "cost_saved",
            "time_saved",
            "revenue_gained",
        }
        assert 1 <= len(offer.stories) <= 2
        assert offer.price > 0 and offer.price_note
        assert 0 < offer.effect.recovered_share <= 1
        for input_id in INPUTS:
            bounds = offer.effect.bounds(input_id)
            assert 0 < bounds.min < bounds.max
