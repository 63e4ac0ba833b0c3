"""Qualification scoring: a framework's answers become points and a level (MQL / SQL / out).

Answers map a question id to the index of the chosen option, which is what the questionnaire
buttons carry. Partial answers are scored (the manager may stop mid-call and resume), but a
level is given only when every question is answered: a level from half the questions would
disqualify leads simply for not having been asked yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.book_qualification import QualificationFramework, QualificationThresholds, Question
from domain.errors import UnknownAnswerOption, UnknownQuestion


class QualificationLevel(StrEnum):
    DISQUALIFIED = "disqualified"
    MQL = "mql"
    SQL = "sql"


@dataclass(frozen=True)
class QualificationResult:
    points: int
    max_points: int
    """Points if every question got its best answer."""
    level: QualificationLevel | None
    """None until every question is answered."""
    answered: int
    total: int

    @property
    def is_complete(self) -> bool:
        return self.answered == self.total


def level_for(thresholds: QualificationThresholds, points: int) -> QualificationLevel:
    if points >= thresholds.sql:
        return QualificationLevel.SQL
    if points >= thresholds.mql:
        return QualificationLevel.MQL
    return QualificationLevel.DISQUALIFIED


def score(framework: QualificationFramework, answers: Mapping[str, int]) -> QualificationResult:
    """Score the answers given so far; raises on an unknown question or option index, which only
    a stale or forged button can produce."""
    questions = {question.id: question for question in framework.questions}
    points = 0
    for question_id, option_index in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise UnknownQuestion(framework.id, question_id)
        points += _chosen_option_points(question, option_index)

    total = len(framework.questions)
    answered = len(answers)
    return QualificationResult(
        points=points,
        max_points=sum(max(option.points for option in q.options) for q in framework.questions),
        level=level_for(framework.thresholds, points) if answered == total else None,
        answered=answered,
        total=total,
    )


def next_question(framework: QualificationFramework, answers: Mapping[str, int]) -> Question | None:
    """The first question in book order not yet answered, or None when all are."""
    for question in framework.questions:
        if question.id not in answers:
            return question
    return None


def matching_lost_reason(
    framework: QualificationFramework, answers: Mapping[str, int]
) -> str | None:
    """The lost reason of the weakest answered question that names one: the answer furthest
    below its question's best (as a share of it), the earlier question on a tie."""
    weakest: tuple[float, str] | None = None
    for question in framework.questions:
        if question.lost_reason is None or question.id not in answers:
            continue
        points = _chosen_option_points(question, answers[question.id])
        shortfall = 1 - points / question.max_points if question.max_points else 0.0
        if weakest is None or shortfall > weakest[0]:
            weakest = (shortfall, question.lost_reason)
    return weakest[1] if weakest else None


def _chosen_option_points(question: Question, option_index: int) -> int:
    # bool is an int in Python and a negative index would silently pick from the end: refuse both.
    if (
        isinstance(option_index, bool)
        or not isinstance(option_index, int)
        or not 0 <= option_index < len(question.options)
    ):
        raise UnknownAnswerOption(question.id, option_index)
    return question.options[option_index].points
