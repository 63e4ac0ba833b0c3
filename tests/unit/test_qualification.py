from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import UnknownAnswerOption, UnknownQuestion
from domain.qualification import (
    QualificationLevel,
    level_for,
    matching_lost_reason,
    next_question,
    score,
)
from tests.unit.book_factory import make_framework

# The test framework: budget 0/1/3, authority 0/2, need 0/2; MQL from 2, SQL from 5; best 7.
FRAMEWORK = make_framework()


@pytest.mark.parametrize(
    ("answers", "points", "level"),
    [
        ({"budget": 0, "authority": 0, "need": 0}, 0, QualificationLevel.DISQUALIFIED),
        ({"budget": 1, "authority": 0, "need": 0}, 1, QualificationLevel.DISQUALIFIED),
        ({"budget": 0, "authority": 1, "need": 0}, 2, QualificationLevel.MQL),
        ({"budget": 1, "authority": 1, "need": 0}, 3, QualificationLevel.MQL),
        ({"budget": 2, "authority": 1, "need": 0}, 5, QualificationLevel.SQL),
        ({"budget": 2, "authority": 1, "need": 1}, 7, QualificationLevel.SQL),
    ],
)
def test_complete_answers_get_points_and_level(
    answers: dict[str, int], points: int, level: QualificationLevel
) -> None:
    result = score(FRAMEWORK, answers)
    assert result.points == points
    assert result.level is level
    assert result.max_points == 7
    assert (result.answered, result.total) == (3, 3)
    assert result.is_complete


def test_partial_answers_are_scored_without_a_level() -> None:
    result = score(FRAMEWORK, {"budget": 2})
    assert result.points == 3
    assert result.level is None
    assert (result.answered, result.total) == (1, 3)
    assert not result.is_complete


def test_no_answers_score_nothing() -> None:
    result = score(FRAMEWORK, {})
    assert (result.points, result.level, result.answered) == (0, None, 0)


def test_unknown_question_is_refused() -> None:
    with pytest.raises(UnknownQuestion) as raised:
        score(FRAMEWORK, {"timing": 0})
    assert (raised.value.framework_id, raised.value.question_id) == ("bant", "timing")


@pytest.mark.parametrize("option_index", [3, -1, True])
def test_unknown_option_is_refused(option_index: int) -> None:
    with pytest.raises(UnknownAnswerOption) as raised:
        score(FRAMEWORK, {"budget": option_index})
    assert raised.value.question_id == "budget"


def test_next_question_follows_book_order() -> None:
    first = next_question(FRAMEWORK, {})
    assert first is not None and first.id == "budget"
    second = next_question(FRAMEWORK, {"budget": 1, "need": 0})
    assert second is not None and second.id == "authority"
    assert next_question(FRAMEWORK, {"budget": 1, "authority": 0, "need": 0}) is None


def test_level_thresholds_are_inclusive() -> None:
    thresholds = FRAMEWORK.thresholds
    assert level_for(thresholds, thresholds.mql - 1) is QualificationLevel.DISQUALIFIED
    assert level_for(thresholds, thresholds.mql) is QualificationLevel.MQL
    assert level_for(thresholds, thresholds.sql - 1) is QualificationLevel.MQL
    assert level_for(thresholds, thresholds.sql) is QualificationLevel.SQL


def test_every_complete_answer_set_is_levelled_by_its_points() -> None:
    option_ranges = [range(len(question.options)) for question in FRAMEWORK.questions]
    for choice in itertools.product(*option_ranges):
        answers = {q.id: index for q, index in zip(FRAMEWORK.questions, choice, strict=True)}
        result = score(FRAMEWORK, answers)
        assert 0 <= result.points <= result.max_points
        assert result.level is level_for(FRAMEWORK.thresholds, result.points)


LEVEL_ORDER = [QualificationLevel.DISQUALIFIED, QualificationLevel.MQL, QualificationLevel.SQL]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 50), st.integers(0, 50))
def test_more_points_never_lower_the_level(points: int, more: int) -> None:
    thresholds = FRAMEWORK.thresholds
    lower = LEVEL_ORDER.index(level_for(thresholds, points))
    higher = LEVEL_ORDER.index(level_for(thresholds, points + more))
    assert lower <= higher


def test_the_weakest_answer_names_the_lost_reason() -> None:
    framework = FRAMEWORK.model_copy(
        update={
            "questions": [
                FRAMEWORK.questions[0].model_copy(update={"lost_reason": "no_budget"}),
                FRAMEWORK.questions[1].model_copy(update={"lost_reason": "no_decision"}),
                FRAMEWORK.questions[2],  # names no reason
            ]
        }
    )
    # budget "Some" (1 of 3) is further below its best than authority "Yes" (2 of 2)
    assert matching_lost_reason(framework, {"budget": 1, "authority": 1, "need": 0}) == "no_budget"
    # authority "No" (0 of 2) is weaker than budget "Some" (1 of 3)
    assert matching_lost_reason(framework, {"budget": 1, "authority": 0}) == "no_decision"
    # equally weak: the earlier question wins
    assert matching_lost_reason(framework, {"budget": 0, "authority": 0}) == "no_budget"
    # the weakest answer overall ("need") names no reason: the weakest that does is used
    assert matching_lost_reason(framework, {"budget": 2, "authority": 1, "need": 0}) == "no_budget"
    assert matching_lost_reason(FRAMEWORK, {"budget": 0, "authority": 0}) is None
