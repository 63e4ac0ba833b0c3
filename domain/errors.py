"""Domain errors: what went wrong, as data.

Every error carries the facts a UI needs to explain it (ids, indexes, limits) and no human text:
the bot layer picks the message by the error's type and fills it from these fields, in the
user's language. `str(error)` is a technical one-liner for logs only.

Errors are dataclasses so their fields are typed and visible; `args` mirrors the fields so they
pickle and print like ordinary exceptions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    # Type-only: roles and deal import this module, so a runtime import would be circular.
    from domain.deal import DealStatus
    from domain.roles import Action, Role


class DomainError(Exception):
    """Base of every rule violation the domain reports. Catch this in the bot layer."""

    def __post_init__(self) -> None:
        self.args = tuple(getattr(self, field.name) for field in dataclasses.fields(self))  # type: ignore[arg-type]

    def __str__(self) -> str:
        if not dataclasses.is_dataclass(self):
            return super().__str__()
        values = ", ".join(
            f"{field.name}={getattr(self, field.name)!r}" for field in dataclasses.fields(self)
        )
        return f"{type(self).__name__}({values})"


# --- pipeline and stages -------------------------------------------------------------------------


@dataclass(eq=False)
class UnknownStage(DomainError):
    """The stage is not in the pipeline (a forged button, or the book was edited)."""

    pipeline_id: str
    stage_id: str


@dataclass(eq=False)
class UnknownExitCriterion(DomainError):
    """A ticked exit-criterion index that the stage does not have."""

    stage_id: str
    index: int


@dataclass(eq=False)
class ExitCriteriaNotMet(DomainError):
    """Moving forward needs every exit criterion of the current stage ticked."""

    stage_id: str
    missing: list[str]
    """The unticked criteria, as written in the sales book."""
    missing_indexes: list[int]


@dataclass(eq=False)
class NoNextStage(DomainError):
    """The deal is at the last stage: it can only be closed, not advanced."""

    stage_id: str


@dataclass(eq=False)
class NotAnEarlierStage(DomainError):
    """Moving back must go to a stage before the current one."""

    from_stage: str
    to_stage: str


# --- deal lifecycle ------------------------------------------------------------------------------


@dataclass(eq=False)
class DealClosed(DomainError):
    """The deal is won or lost: reopen it before changing it."""

    deal_id: int | None
    status: DealStatus


@dataclass(eq=False)
class AlreadyAssigned(DomainError):
    """The deal is already this manager's."""

    deal_id: int | None
    manager_id: int


@dataclass(eq=False)
class SnoozeNotInFuture(DomainError):
    """A deal can only be snoozed until a time still to come."""

    until: dt.datetime


@dataclass(eq=False)
class SnoozeTooFar(DomainError):
    """A deal can be snoozed for a year at most (domain/horizon.py)."""

    until: dt.datetime


@dataclass(eq=False)
class DealNotClosed(DomainError):
    """Only a won or lost deal can be reopened."""

    deal_id: int | None


InvalidAmountReason = Literal["not_a_number", "not_positive", "too_many_decimals", "too_large"]


@dataclass(eq=False)
class InvalidAmount(DomainError):
    reason: InvalidAmountReason
    limit: str | None = None
    """For "too_large": the largest allowed amount, as a decimal string."""


@dataclass(eq=False)
class UnknownLostReason(DomainError):
    """Lost reasons are a closed list in the sales book."""

    reason_id: str


@dataclass(eq=False)
class CommentRequired(DomainError):
    """Moving back, reopening and overriding exit criteria must say why."""


@dataclass(eq=False)
class CommentTooLong(DomainError):
    max_length: int
    length: int


@dataclass(eq=False)
class QualificationIncomplete(DomainError):
    """A level is only recorded once every question is answered."""

    answered: int
    total: int


# --- qualification -------------------------------------------------------------------------------


@dataclass(eq=False)
class UnknownQuestion(DomainError):
    framework_id: str
    question_id: str


@dataclass(eq=False)
class UnknownAnswerOption(DomainError):
    question_id: str
    option_index: int


# --- staff ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class PermissionDenied(DomainError):
    action: Action
    role: Role | None
    """None when the user has no staff role at all."""


InviteInvalidReason = Literal["unknown", "expired", "used"]


@dataclass(eq=False)
class InviteInvalid(DomainError):
    reason: InviteInvalidReason


@dataclass(eq=False)
class InviteRoleNotAllowed(DomainError):
    """Invites create managers and supervisors only; admins are configured, not invited."""

    role: Role


# --- commercial proposals ------------------------------------------------------------------------

InvalidProposalInputReason = Literal[
    "not_a_number", "not_positive", "not_whole", "below_min", "above_max"
]


@dataclass(eq=False)
class InvalidProposalInput(DomainError):
    """A figure for the economic effect that cannot be used: not a number, zero or negative,
    a fractional number of people, or outside the template's believable range."""

    input_id: str
    """team_size, hours_lost_weekly or hourly_cost."""
    reason: InvalidProposalInputReason
    minimum: Decimal
    maximum: Decimal
    """The template's bounds for this input, so the message can say what is accepted."""


@dataclass(eq=False)
class ProposalInputsMissing(DomainError):
    """The economic effect needs every input; these are not entered yet (in asking order)."""

    missing: list[str]
