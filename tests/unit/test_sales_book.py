"""The sales book: what the shipped book holds, YAML that must not surprise, and that any
edit gives a book or a SalesBookError. Broken books: test_sales_book_errors.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.book_loading import SalesBookError, parse_sales_book
from domain.sales_book import (
    DEFAULT_SALES_BOOK_PATH,
    KNOWN_KPIS,
    RESERVED_SOURCE_PREFIX,
    SalesBook,
    Stage,
)
from tests.unit.sales_book_text import (
    DEFAULT_TEXT,
    IMPL,
    PROPOSALS,
    SOURCE,
    SUBS,
    edit,
)

STAGE_IDS = [
    "request",
    "qualification",
    "meeting",
    "proposal",
    "negotiation",
    "invoice",
    "payment",
    "handover",
]


# --- The default book ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def book() -> SalesBook:
    return parse_sales_book(DEFAULT_TEXT, str(DEFAULT_SALES_BOOK_PATH))


def test_default_book_has_two_pipelines_of_the_eight_stage_map(book: SalesBook) -> None:
    assert [pipeline.id for pipeline in book.pipelines] == [
        "implementation_mid",
        "subscription_small",
    ]
    for pipeline in book.pipelines:
        assert [stage.id for stage in pipeline.stages] == STAGE_IDS
        assert pipeline.stage(pipeline.key_stage).id == pipeline.key_stage
        assert pipeline.stage_index(pipeline.key_stage) == STAGE_IDS.index("meeting")
        assert book.product(pipeline.product).id == pipeline.product
        assert book.segment(pipeline.segment).id == pipeline.segment
        assert book.pipeline_for(pipeline.product, pipeline.segment) is pipeline
        probabilities = [stage.probability for stage in pipeline.stages]
        assert probabilities == sorted(probabilities)
        assert probabilities[-1] == 1.0
        for stage in pipeline.stages:
            assert stage.name and stage.goal
            assert 1 <= len(stage.exit_criteria) <= 3
            assert 0 < stage.target_conversion <= 1
            assert 0 < stage.sla_hours <= 80


def test_default_book_qualification(book: SalesBook) -> None:
    bant, meddic = book.framework("bant"), book.framework("meddic")
    assert len(bant.questions) == 4
    assert len(meddic.questions) == 6
    for framework in (bant, meddic):
        assert all(3 <= len(question.options) <= 4 for question in framework.questions)
        assert 0 < framework.thresholds.mql <= framework.thresholds.sql <= framework.max_points
    assert book.framework_for("implementation_mid") is meddic
    assert book.framework_for("subscription_small") is bant


def test_default_book_calendar_and_the_rest(book: SalesBook) -> None:
    hours = book.working_hours
    assert (hours.timezone, hours.start, hours.end) == (
        "Europe/Moscow",
        dt.time(9, 0),
        dt.time(18, 0),
    )
    assert hours.weekdays == [1, 2, 3, 4, 5]
    assert hours.holidays_country == "RU"
    assert str(hours.zone) == "Europe/Moscow"
    assert 15 <= book.first_response_minutes <= 30
    assert book.currency == "RUB"
    assert book.kpis == list(KNOWN_KPIS)
    assert 7 <= len(book.lost_reasons) <= 9
    assert book.lost_reason("too_expensive").name == "Дорого"
    assert book.source("ads_vk").id == "ads_vk"
    assert not any(source.id.startswith(RESERVED_SOURCE_PREFIX) for source in book.sources)
    assert book.plan.monthly_revenue > 0
    assert book.digest.time == dt.time(9, 0)


def test_default_consent_covers_what_152_fz_needs(book: SalesBook) -> None:
    text = book.consent.text
    assert book.consent.version
    assert len(text) <= 4096
    for must_mention in ("152-ФЗ", "имя", "телефон", "компании", "обращения", "Telegram"):
        assert must_mention in text
    assert "/forget_me" in text


def test_lookups_raise_key_error_for_unknown_ids(book: SalesBook) -> None:
    with pytest.raises(KeyError):
        book.pipeline("nope")
    with pytest.raises(KeyError):
        book.pipeline_for("implementation", "small")
    with pytest.raises(KeyError):
        book.pipelines[0].stage("nope")
    pipeline = book.pipelines[0]
    assert pipeline.next_stage("request") is pipeline.stage("qualification")
    assert pipeline.next_stage("handover") is None


# --- YAML 1.1 traps that must not bite --------------------------------------------------------


def test_unquoted_clock_time_is_a_time_not_sexagesimal() -> None:
    book = parse_sales_book(edit('end: "18:00"', "end: 18:00"))
    assert book.working_hours.end == dt.time(18, 0)


def test_norway_is_not_false() -> None:
    book = parse_sales_book(edit("holidays_country: RU", "holidays_country: NO"))
    assert book.working_hours.holidays_country == "NO"


def test_null_holidays_country_means_no_public_holidays() -> None:
    book = parse_sales_book(edit("holidays_country: RU", "holidays_country: null"))
    assert book.working_hours.holidays_country is None


def test_unquoted_telegram_ids_key_the_per_manager_plan() -> None:
    book = parse_sales_book(edit("per_manager: {}", "per_manager: {123456789: 1_500_000}"))
    assert book.plan.per_manager == {"123456789": Decimal(1_500_000)}


def test_anchors_and_merge_keys_work() -> None:
    text = edit(
        "      - id: request\n        name: Обращение\n",
        "      - &request\n        id: request\n        name: Обращение\n",
        after=IMPL,
    )
    text = edit(
        "      - id: request\n        name: Обращение\n",
        "      - <<: *request\n        name: Первичное обращение\n",
        after=SUBS,
        text=text,
    )
    # The id comes from the anchor; the keys written next to `<<:` override it, which is not
    # flagged as a key written twice.
    book = parse_sales_book(text)
    stage = book.pipeline("subscription_small").stages[0]
    assert (stage.id, stage.name) == ("request", "Первичное обращение")


# --- The models used directly, without YAML ----------------------------------------------------


def test_models_validate_without_yaml_too() -> None:
    data = parse_sales_book(DEFAULT_TEXT).model_dump()
    data["pipelines"][0]["key_stage"] = "demo"
    with pytest.raises(ValidationError, match="key_stage: must be the id of one of"):
        SalesBook.model_validate(data)


def test_stage_rejects_empty_exit_criterion() -> None:
    with pytest.raises(ValidationError):
        Stage(
            id="request",
            name="Обращение",
            exit_criteria=["  "],
            target_conversion=0.5,
            sla_hours=1,
            probability=0.1,
        )


# --- Whatever the admin types, the answer is a book or a SalesBookError ----------------------

DEFAULT_LINES = DEFAULT_TEXT.splitlines(keepends=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=len(DEFAULT_LINES) - 1),
    replacement=st.text(
        alphabet=st.sampled_from(list(" \t:-#[]{}'\"&*!|>%@,?\n0123456789abcRUЯ")), max_size=12
    ),
)
def test_any_one_line_edit_gives_a_book_or_a_sales_book_error(index: int, replacement: str) -> None:
    lines = list(DEFAULT_LINES)
    lines[index] = replacement + "\n"
    try:
        parse_sales_book("".join(lines), SOURCE)
    except SalesBookError as error:
        assert error.problems
        assert all(problem.startswith(SOURCE) for problem in error.problems)


# --- Commercial proposals ----------------------------------------------------------------------


def test_default_book_has_a_proposal_per_product(book: SalesBook) -> None:
    assert {template.product for template in book.proposals} == {
        product.id for product in book.products
    }
    implementation = book.proposal("implementation_mid")
    assert (implementation.product, implementation.segment) == ("implementation", "mid")
    assert implementation.effect.weeks_per_year == 48
    assert implementation.effect.team_size.min == 1
    assert implementation.effect.hours_lost_weekly.min == Decimal("0.5")
    assert book.proposal("subscription").segment is None
    with pytest.raises(KeyError):
        book.proposal("nope")


def test_proposals_are_optional() -> None:
    text = (
        DEFAULT_TEXT[: DEFAULT_TEXT.index(PROPOSALS)]
        + DEFAULT_TEXT[DEFAULT_TEXT.index("\n# --- Согласие") :]
    )
    assert parse_sales_book(text).proposals == []
