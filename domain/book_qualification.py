"""The sales book's `qualification:` section: the frameworks that qualify a lead.

Each framework is a list of questions whose answers earn points, with the MQL and SQL
thresholds; scoring a lead's answers is `domain.qualification`'s job.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from domain.book_fields import BookModel, BookProblems, Identifier, duplicate_ids


class AnswerOption(BookModel):
    text: str = Field(min_length=1)
    points: int = Field(ge=0)


class Question(BookModel):
    id: Identifier
    text: str = Field(min_length=1)
    options: list[AnswerOption] = Field(min_length=2)
    lost_reason: Identifier | None = None
    """The lost reason (an id from `lost_reasons`) a disqualified lead most likely has when this
    question is its weakest answer: budget -> no budget."""

    @model_validator(mode="after")
    def _check_options(self) -> Self:
        problems = duplicate_ids("options", [option.text for option in self.options], "text")
        if problems:
            raise BookProblems(problems)
        return self

    @property
    def max_points(self) -> int:
        return max(option.points for option in self.options)


class QualificationThresholds(BookModel):
    mql: int = Field(ge=0)
    """Points from which a lead is marketing-qualified; below it the lead is disqualified."""
    sql: int = Field(ge=0)
    """Points from which a lead is sales-qualified."""


class QualificationFramework(BookModel):
    id: Identifier
    name: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)
    thresholds: QualificationThresholds

    @model_validator(mode="after")
    def _check_thresholds(self) -> Self:
        problems = duplicate_ids("questions", [question.id for question in self.questions])
        mql, sql, best = self.thresholds.mql, self.thresholds.sql, self.max_points
        if mql > sql:
            problems.append(
                (("thresholds", "mql"), f"must not be greater than sql ({sql}), got {mql}")
            )
        if sql > best:
            problems.append(
                (
                    ("thresholds", "sql"),
                    f"can never be reached: the most a lead can score in this framework is "
                    f"{best} (the best answer to every question), got {sql}",
                )
            )
        if problems:
            raise BookProblems(problems)
        return self

    @property
    def max_points(self) -> int:
        return sum(question.max_points for question in self.questions)
