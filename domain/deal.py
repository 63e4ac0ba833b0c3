"""The deal and its stage machine.

A deal walks the stages of its pipeline. Moving forward needs the current stage's exit criteria
(or a supervisor's override with a reason), moving back needs a reason, closing needs an amount
(won) or a reason from the book's closed list (lost), and a closed deal changes only by being
reopened. Every operation mutates the deal and returns the `StageTransition` that storage keeps
as the deal's history: conversion and cycle-time figures are computed from those records.

Who may do what (override, reopen, touch someone else's deal) is decided by the service with
`domain.roles`; the deal only enforces what makes a move valid for anyone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.amounts import validate_amount
from domain.errors import (
    AlreadyAssigned,
    CommentRequired,
    CommentTooLong,
    DealClosed,
    DealNotClosed,
    ExitCriteriaNotMet,
    NoNextStage,
    NotAnEarlierStage,
    QualificationIncomplete,
    SnoozeNotInFuture,
    SnoozeTooFar,
    UnknownExitCriterion,
    UnknownLostReason,
    UnknownStage,
)
from domain.horizon import beyond_horizon
from domain.qualification import QualificationLevel, QualificationResult
from domain.sales_book import Pipeline, SalesBook, Stage
from domain.working_time import WorkingCalendar

MAX_COMMENT_LENGTH = 1000
"""Comments are reasons, not essays; the cap also keeps a history entry within one message."""


class DealStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class TransitionKind(StrEnum):
    CREATED = "created"
    """The deal entered its first stage; `from_stage` is None."""
    FORWARD = "forward"
    BACK = "back"
    WON = "won"
    LOST = "lost"
    REOPEN = "reopen"


@dataclass(frozen=True)
class StageTransition:
    deal_id: int | None
    """None while the deal has not been stored yet; storage fills it in."""
    from_stage: str | None
    to_stage: str
    """For won, lost and reopen the deal stays where it is: from_stage == to_stage."""
    kind: TransitionKind
    actor_id: int | None
    """The staff member who moved it; None for the system (e.g. a lead's request opening a deal)."""
    at: dt.datetime
    comment: str | None = None
    override: bool = False
    """True when a forward move skipped unticked exit criteria."""


@dataclass(frozen=True, slots=True)
class ShownCard:
    """A deal's card as a message in a staff member's chat: what a change made elsewhere (the
    Mini App) edits, so the chat shows the deal as it now is."""

    deal_id: int
    staff_id: int
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class Reassignment:
    """A deal handed from one manager (None: the queue) to another, by whom and when."""

    deal_id: int | None
    from_manager_id: int | None
    to_manager_id: int
    actor_id: int
    at: dt.datetime


@dataclass
class Deal:
    pipeline_id: str
    stage_id: str
    created_at: dt.datetime
    stage_entered_at: dt.datetime
    """When the deal entered its current stage: the stage SLA counts from here."""
    id: int | None = None
    status: DealStatus = DealStatus.OPEN
    manager_id: int | None = None
    contact_id: int | None = None
    source: str | None = None
    need: str | None = None
    amount: Decimal | None = None
    """Expected while the deal is open (`expect`), won when won; a lost deal keeps its last."""
    currency: str | None = None
    lost_reason_id: str | None = None
    close_comment: str | None = None
    qualification_level: QualificationLevel | None = None
    qualification_points: int | None = None
    closed_at: dt.datetime | None = None
    lead_chat_id: int | None = None
    """The lead's private chat with the bot, the deal's channel (None when erased or manual)."""
    first_response_due_at: dt.datetime | None = None
    taken_at: dt.datetime | None = None
    """When a manager took the deal; until then the first-response SLA runs."""
    snoozed_until: dt.datetime | None = None
    """The clock is paused until then (the client is away): not overdue, no stage reminders."""
    snooze_reason: str | None = None
    deadline_at: dt.datetime | None = None
    """The current stage's deadline as last computed (`refresh_deadline`), kept so reports can
    count overdue deals in SQL; None for a closed deal."""
    is_sandbox: bool = False
    """A /training deal: seen by its trainee only, counted nowhere, no reminders but theirs."""
    same_phone_as: int | None = None
    """Another client's deal whose phone this request typed: a typed phone is a claim, not a
    proof, so the two stay apart until a manager merges them."""

    @property
    def is_open(self) -> bool:
        return self.status is DealStatus.OPEN

    def answer_client(self, at: dt.datetime) -> bool:
        """Staff answered the client (a take, a message, a proposal): the first answer stops
        the first-response clock. True if this was it."""
        if self.taken_at is not None:
            return False
        self.taken_at = at
        return True

    # --- moves -----------------------------------------------------------------------------------

    def advance(
        self,
        pipeline: Pipeline,
        ticked: Collection[int],
        actor_id: int,
        now: dt.datetime,
        override: bool = False,
        comment: str | None = None,
    ) -> StageTransition:
        """Move to the next stage. `ticked` are indexes into the current stage's exit criteria.

        With `override` the move happens despite unticked criteria, but then a comment is
        required; the transition records `override=True` only if something was actually skipped.
        """
        now = _utc(now)
        self._ensure_open()
        index = self._stage_index(pipeline)
        stage = pipeline.stages[index]
        if index == len(pipeline.stages) - 1:
            raise NoNextStage(stage.id)
        missing_indexes = _missing_criteria(stage, ticked)
        comment = clean_comment(comment)
        if missing_indexes:
            if not override:
                raise ExitCriteriaNotMet(
                    stage_id=stage.id,
                    missing=[stage.exit_criteria[i] for i in missing_indexes],
                    missing_indexes=missing_indexes,
                )
            if comment is None:
                raise CommentRequired()
        return self._enter(
            pipeline.stages[index + 1].id,
            TransitionKind.FORWARD,
            actor_id,
            now,
            comment,
            override=bool(missing_indexes),
        )

    def move_back(
        self,
        pipeline: Pipeline,
        to_stage_id: str,
        actor_id: int,
        now: dt.datetime,
        comment: str | None,
    ) -> StageTransition:
        """Return to an earlier stage (the client went quiet, the proposal must be redone...).
        A comment is required: going back is information the supervisor needs."""
        now = _utc(now)
        self._ensure_open()
        index = self._stage_index(pipeline)
        try:
            target_index = pipeline.stage_index(to_stage_id)
        except KeyError:
            raise UnknownStage(pipeline.id, to_stage_id) from None
        if target_index >= index:
            raise NotAnEarlierStage(from_stage=self.stage_id, to_stage=to_stage_id)
        comment = clean_comment(comment)
        if comment is None:
            raise CommentRequired()
        return self._enter(to_stage_id, TransitionKind.BACK, actor_id, now, comment)

    def win(
        self,
        amount: Decimal,
        actor_id: int,
        now: dt.datetime,
        currency: str | None = None,
        comment: str | None = None,
    ) -> StageTransition:
        now = _utc(now)
        self._ensure_open()
        amount = validate_amount(amount)
        comment = clean_comment(comment)
        self.status = DealStatus.WON
        self.amount = amount
        self.currency = currency
        self.close_comment = comment
        self.closed_at = now
        return self._record(TransitionKind.WON, actor_id, now, comment)

    def lose(
        self,
        book: SalesBook,
        reason_id: str,
        actor_id: int,
        now: dt.datetime,
        comment: str | None = None,
    ) -> StageTransition:
        """Close as lost. The reason must come from the book's closed list, so that "why we
        lose" can be counted; the comment adds detail but cannot replace the reason."""
        now = _utc(now)
        self._ensure_open()
        if all(reason.id != reason_id for reason in book.lost_reasons):
            raise UnknownLostReason(reason_id)
        comment = clean_comment(comment)
        self.status = DealStatus.LOST
        self.lost_reason_id = reason_id
        self.close_comment = comment
        self.closed_at = now
        return self._record(TransitionKind.LOST, actor_id, now, comment)

    def reassign(self, to_manager_id: int, actor_id: int, now: dt.datetime) -> Reassignment:
        """Hand an open deal to another manager. Its stage, clocks and history stay: the new
        manager continues where the old one stopped (and takes it, if nobody had)."""
        self._ensure_open()
        if self.manager_id == to_manager_id:
            raise AlreadyAssigned(self.id, to_manager_id)
        handed = Reassignment(self.id, self.manager_id, to_manager_id, actor_id, _utc(now))
        self.manager_id = to_manager_id
        return handed

    def snooze(self, until: dt.datetime, reason: str | None, now: dt.datetime) -> None:
        """Pause the deal's clock until `until` with a reason ("client on vacation until
        10.06"). The deal stays open; at `until` its reminders resume."""
        self._ensure_open()
        reason = clean_comment(reason)
        if reason is None:
            raise CommentRequired()
        if _utc(until) <= _utc(now):
            raise SnoozeNotInFuture(until=_utc(until))
        if beyond_horizon(_utc(until), _utc(now)):
            raise SnoozeTooFar(until=_utc(until))
        self.snoozed_until, self.snooze_reason = _utc(until), reason

    def wake(self) -> None:
        self.snoozed_until = self.snooze_reason = None

    def expect(self, amount: Decimal, currency: str | None = None) -> None:
        """The amount an open deal is expected to bring (the forecast weighs it by the stage's
        probability); the win records the amount actually won in its place."""
        self._ensure_open()
        self.amount = validate_amount(amount)
        self.currency = currency

    def is_snoozed(self, now: dt.datetime) -> bool:
        return self.snoozed_until is not None and _utc(now) < self.snoozed_until

    def reopen(self, actor_id: int, now: dt.datetime, comment: str | None) -> StageTransition:
        """Open a won or lost deal again, at the stage where it was closed.

        The outcome fields are cleared (a reopened deal is neither revenue nor a loss) and the
        stage clock restarts, otherwise the deal would come back already overdue; a snooze from
        before the close is over (the deal is back in work now).
        """
        now = _utc(now)
        if self.is_open:
            raise DealNotClosed(self.id)
        comment = clean_comment(comment)
        if comment is None:
            raise CommentRequired()
        self.status = DealStatus.OPEN
        self.amount = None
        self.currency = None
        self.lost_reason_id = None
        self.close_comment = None
        self.closed_at = None
        self.stage_entered_at = now
        self.wake()
        return self._record(TransitionKind.REOPEN, actor_id, now, comment)

    def record_qualification(self, result: QualificationResult) -> None:
        """Keep a complete qualification's level and points on the deal."""
        self._ensure_open()
        if result.level is None:
            raise QualificationIncomplete(answered=result.answered, total=result.total)
        self.qualification_level = result.level
        self.qualification_points = result.points

    # --- SLA -------------------------------------------------------------------------------------

    def deadline(self, calendar: WorkingCalendar, pipeline: Pipeline) -> dt.datetime:
        """When the current stage's SLA runs out: its `sla_hours` of working time after the deal
        entered the stage. Closed deals have no deadline (DealClosed)."""
        self._ensure_open()
        stage = pipeline.stages[self._stage_index(pipeline)]
        return calendar.add_working_time(self.stage_entered_at, dt.timedelta(hours=stage.sla_hours))

    def refresh_deadline(self, calendar: WorkingCalendar, pipeline: Pipeline) -> None:
        """Store the current stage's deadline on the deal (after it entered a stage or closed)."""
        self.deadline_at = self.deadline(calendar, pipeline) if self.is_open else None

    def is_overdue(self, calendar: WorkingCalendar, pipeline: Pipeline, now: dt.datetime) -> bool:
        return self.is_open and _utc(now) >= self.deadline(calendar, pipeline)

    # --- internals -------------------------------------------------------------------------------

    def _ensure_open(self) -> None:
        if not self.is_open:
            raise DealClosed(self.id, self.status)

    def _stage_index(self, pipeline: Pipeline) -> int:
        if pipeline.id != self.pipeline_id:
            # A wiring mistake in the caller, not something a user can cause.
            raise ValueError(f"deal is in pipeline {self.pipeline_id!r}, got {pipeline.id!r}")
        try:
            return pipeline.stage_index(self.stage_id)
        except KeyError:
            # The book was edited and the deal's stage no longer exists.
            raise UnknownStage(pipeline.id, self.stage_id) from None

    def _enter(
        self,
        stage_id: str,
        kind: TransitionKind,
        actor_id: int,
        now: dt.datetime,
        comment: str | None,
        override: bool = False,
    ) -> StageTransition:
        transition = StageTransition(
            deal_id=self.id,
            from_stage=self.stage_id,
            to_stage=stage_id,
            kind=kind,
            actor_id=actor_id,
            at=now,
            comment=comment,
            override=override,
        )
        self.stage_id = stage_id
        self.stage_entered_at = now
        return transition

    def _record(
        self, kind: TransitionKind, actor_id: int, now: dt.datetime, comment: str | None
    ) -> StageTransition:
        return StageTransition(
            deal_id=self.id,
            from_stage=self.stage_id,
            to_stage=self.stage_id,
            kind=kind,
            actor_id=actor_id,
            at=now,
            comment=comment,
        )


def open_deal(
    pipeline: Pipeline,
    now: dt.datetime,
    actor_id: int | None = None,
    manager_id: int | None = None,
    contact_id: int | None = None,
    source: str | None = None,
    need: str | None = None,
) -> tuple[Deal, StageTransition]:
    """A new deal at the pipeline's first stage, and the CREATED record of it entering there."""
    now = _utc(now)
    deal = Deal(
        pipeline_id=pipeline.id,
        stage_id=pipeline.stages[0].id,
        created_at=now,
        stage_entered_at=now,
        manager_id=manager_id,
        contact_id=contact_id,
        source=source,
        need=need,
    )
    created = StageTransition(
        deal_id=None,
        from_stage=None,
        to_stage=deal.stage_id,
        kind=TransitionKind.CREATED,
        actor_id=actor_id,
        at=now,
    )
    return deal, created


def with_deal_id(transition: StageTransition, deal_id: int) -> StageTransition:
    """The transition of a deal that has just been given its id by storage."""
    return dataclasses.replace(transition, deal_id=deal_id)


# --- helpers ---------------------------------------------------------------------------------


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {instant!r}")
    return instant.astimezone(dt.UTC)


def _missing_criteria(stage: Stage, ticked: Collection[int]) -> list[int]:
    count = len(stage.exit_criteria)
    for index in ticked:
        if isinstance(index, bool) or not 0 <= index < count:
            raise UnknownExitCriterion(stage.id, index)
    return [index for index in range(count) if index not in ticked]


def clean_comment(comment: str | None) -> str | None:
    """Blank comments count as none: a reason made of spaces is no reason."""
    if comment is None:
        return None
    comment = comment.strip()
    if not comment:
        return None
    if len(comment) > MAX_COMMENT_LENGTH:
        raise CommentTooLong(max_length=MAX_COMMENT_LENGTH, length=len(comment))
    return comment
