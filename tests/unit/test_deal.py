from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.amounts import MAX_DEAL_AMOUNT
from domain.deal import (
    MAX_COMMENT_LENGTH,
    Deal,
    DealStatus,
    StageTransition,
    TransitionKind,
    open_deal,
    with_deal_id,
)
from domain.errors import (
    AlreadyAssigned,
    CommentRequired,
    CommentTooLong,
    DealClosed,
    DealNotClosed,
    DomainError,
    ExitCriteriaNotMet,
    InvalidAmount,
    NoNextStage,
    NotAnEarlierStage,
    QualificationIncomplete,
    UnknownExitCriterion,
    UnknownLostReason,
    UnknownStage,
)
from domain.first_response import first_response_deadline
from domain.qualification import QualificationLevel, score
from domain.working_time import WorkingCalendar
from tests.unit.book_factory import book_data, make_book, make_framework

MSK = ZoneInfo("Europe/Moscow")
BOOK = make_book()
PIPELINE = BOOK.pipelines[0]  # request(2 criteria, 2h) -> qualification -> proposal -> invoice
CALENDAR = WorkingCalendar.from_book(BOOK.working_hours)
MANAGER = 101
SUPERVISOR = 202
CREATED_AT = dt.datetime(2026, 5, 20, 10, 0, tzinfo=MSK)  # a Wednesday
LATER = CREATED_AT + dt.timedelta(hours=1)


def new_deal(stage_id: str = "request") -> Deal:
    deal, _created = open_deal(PIPELINE, CREATED_AT, manager_id=MANAGER)
    deal.id = 7
    deal.stage_id = stage_id
    return deal


def won_deal() -> Deal:
    deal = new_deal("invoice")
    deal.win(Decimal("150000"), MANAGER, LATER)
    return deal


def lost_deal() -> Deal:
    deal = new_deal("proposal")
    deal.lose(BOOK, "price", MANAGER, LATER, comment="Budget cut")
    return deal


# --- opening -----------------------------------------------------------------------------------


def test_a_new_deal_enters_the_first_stage() -> None:
    deal, created = open_deal(PIPELINE, CREATED_AT, manager_id=MANAGER, source="site")
    assert (deal.stage_id, deal.status, deal.manager_id, deal.source) == (
        "request",
        DealStatus.OPEN,
        MANAGER,
        "site",
    )
    assert deal.created_at == deal.stage_entered_at == CREATED_AT
    assert deal.created_at.tzinfo is dt.UTC
    assert created == StageTransition(
        deal_id=None,
        from_stage=None,
        to_stage="request",
        kind=TransitionKind.CREATED,
        actor_id=None,
        at=CREATED_AT,
    )
    assert with_deal_id(created, 42).deal_id == 42


# --- forward -----------------------------------------------------------------------------------


def test_advance_with_every_criterion_ticked() -> None:
    deal = new_deal()
    transition = deal.advance(PIPELINE, {0, 1}, MANAGER, LATER)
    assert deal.stage_id == "qualification"
    assert deal.stage_entered_at == LATER
    assert transition == StageTransition(
        deal_id=7,
        from_stage="request",
        to_stage="qualification",
        kind=TransitionKind.FORWARD,
        actor_id=MANAGER,
        at=LATER,
        comment=None,
        override=False,
    )


def test_advance_with_a_criterion_missing_is_refused_and_changes_nothing() -> None:
    deal = new_deal()
    before = Deal(**vars(deal))
    with pytest.raises(ExitCriteriaNotMet) as raised:
        deal.advance(PIPELINE, {1}, MANAGER, LATER)
    assert raised.value.stage_id == "request"
    assert raised.value.missing == ["Need recorded"]
    assert raised.value.missing_indexes == [0]
    assert deal == before


def test_override_needs_a_comment() -> None:
    deal = new_deal()
    for comment in (None, "", "   \n"):
        with pytest.raises(CommentRequired):
            deal.advance(PIPELINE, set(), SUPERVISOR, LATER, override=True, comment=comment)
    assert deal.stage_id == "request"


def test_override_with_a_comment_moves_and_is_recorded() -> None:
    deal = new_deal()
    transition = deal.advance(
        PIPELINE, {0}, SUPERVISOR, LATER, override=True, comment="  Client confirmed by phone "
    )
    assert deal.stage_id == "qualification"
    assert transition.override is True
    assert transition.comment == "Client confirmed by phone"


def test_override_of_nothing_is_not_recorded_as_one() -> None:
    transition = new_deal().advance(PIPELINE, {0, 1}, SUPERVISOR, LATER, override=True)
    assert transition.override is False


@pytest.mark.parametrize("index", [2, -1])
def test_unknown_criterion_index_is_refused(index: int) -> None:
    deal = new_deal()
    with pytest.raises(UnknownExitCriterion):
        deal.advance(PIPELINE, {0, 1, index}, MANAGER, LATER)
    assert deal.stage_id == "request"


def test_the_last_stage_cannot_be_advanced() -> None:
    with pytest.raises(NoNextStage):
        new_deal("invoice").advance(PIPELINE, {0}, MANAGER, LATER)


# --- back --------------------------------------------------------------------------------------


def test_move_back_to_an_earlier_stage_with_a_comment() -> None:
    deal = new_deal("proposal")
    transition = deal.move_back(PIPELINE, "request", MANAGER, LATER, "Client changed the scope")
    assert deal.stage_id == "request"
    assert deal.stage_entered_at == LATER
    assert (transition.kind, transition.from_stage, transition.to_stage) == (
        TransitionKind.BACK,
        "proposal",
        "request",
    )
    assert transition.comment == "Client changed the scope"


@pytest.mark.parametrize("target", ["proposal", "invoice"])
def test_move_back_only_goes_back(target: str) -> None:
    with pytest.raises(NotAnEarlierStage):
        new_deal("proposal").move_back(PIPELINE, target, MANAGER, LATER, "why")


def test_move_back_needs_a_comment() -> None:
    with pytest.raises(CommentRequired):
        new_deal("proposal").move_back(PIPELINE, "request", MANAGER, LATER, " ")


def test_move_back_to_an_unknown_stage() -> None:
    with pytest.raises(UnknownStage):
        new_deal("proposal").move_back(PIPELINE, "nowhere", MANAGER, LATER, "why")


def test_comments_have_a_length_limit() -> None:
    with pytest.raises(CommentTooLong) as raised:
        new_deal("proposal").move_back(
            PIPELINE, "request", MANAGER, LATER, "x" * (MAX_COMMENT_LENGTH + 1)
        )
    assert raised.value.max_length == MAX_COMMENT_LENGTH


# --- closing -----------------------------------------------------------------------------------


def test_win_records_the_amount() -> None:
    deal = new_deal("invoice")
    transition = deal.win(Decimal("150000.5"), MANAGER, LATER, currency="RUB")
    assert deal.status is DealStatus.WON
    assert deal.amount == Decimal("150000.50")
    assert deal.currency == "RUB"
    assert deal.closed_at == LATER
    assert (transition.kind, transition.from_stage, transition.to_stage) == (
        TransitionKind.WON,
        "invoice",
        "invoice",
    )


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        (Decimal(0), "not_positive"),
        (Decimal("-10"), "not_positive"),
        (Decimal("10.005"), "too_many_decimals"),
        (MAX_DEAL_AMOUNT + Decimal("0.01"), "too_large"),
        (Decimal("1e30"), "too_large"),
        (Decimal("NaN"), "not_a_number"),
        (Decimal("Infinity"), "not_a_number"),
    ],
)
def test_win_refuses_a_bad_amount(amount: Decimal, reason: str) -> None:
    deal = new_deal("invoice")
    with pytest.raises(InvalidAmount) as raised:
        deal.win(amount, MANAGER, LATER)
    assert raised.value.reason == reason
    assert deal.is_open


def test_lose_records_the_reason() -> None:
    deal = new_deal("proposal")
    transition = deal.lose(BOOK, "competitor", MANAGER, LATER, comment="Went with X")
    assert deal.status is DealStatus.LOST
    assert deal.lost_reason_id == "competitor"
    assert deal.close_comment == "Went with X"
    assert deal.closed_at == LATER
    assert transition.kind is TransitionKind.LOST


def test_lose_needs_a_reason_from_the_book() -> None:
    deal = new_deal("proposal")
    with pytest.raises(UnknownLostReason) as raised:
        deal.lose(BOOK, "weather", MANAGER, LATER)
    assert raised.value.reason_id == "weather"
    assert deal.is_open


@pytest.mark.parametrize("make_closed_deal", [won_deal, lost_deal])
def test_a_closed_deal_cannot_be_moved(make_closed_deal: Callable[[], Deal]) -> None:
    deal = make_closed_deal()
    attempts: list[Callable[[], object]] = [
        lambda: deal.advance(PIPELINE, {0}, MANAGER, LATER),
        lambda: deal.move_back(PIPELINE, "request", MANAGER, LATER, "why"),
        lambda: deal.win(Decimal(1), MANAGER, LATER),
        lambda: deal.lose(BOOK, "price", MANAGER, LATER),
        lambda: deal.deadline(CALENDAR, PIPELINE),
    ]
    for attempt in attempts:
        with pytest.raises(DealClosed) as raised:
            attempt()
        assert (raised.value.deal_id, raised.value.status) == (7, deal.status)


# --- reopening ---------------------------------------------------------------------------------


def test_reopen_clears_the_outcome_and_restarts_the_stage_clock() -> None:
    deal = won_deal()
    reopened_at = LATER + dt.timedelta(days=2)
    transition = deal.reopen(SUPERVISOR, reopened_at, "Payment bounced")
    assert deal.status is DealStatus.OPEN
    assert (deal.amount, deal.currency, deal.closed_at) == (None, None, None)
    assert deal.stage_id == "invoice"
    assert deal.stage_entered_at == reopened_at
    assert transition.kind is TransitionKind.REOPEN
    assert transition.comment == "Payment bounced"


def test_reopen_a_lost_deal() -> None:
    deal = new_deal("proposal")
    deal.snooze(LATER + dt.timedelta(days=30), "Client on vacation", CREATED_AT)
    deal.lose(BOOK, "price", MANAGER, LATER, comment="Budget cut")
    deal.reopen(SUPERVISOR, LATER, "They came back")
    assert (deal.lost_reason_id, deal.close_comment) == (None, None)
    assert not deal.is_snoozed(LATER)  # back in work now, not when the old snooze ends
    deal.advance(PIPELINE, {0}, MANAGER, LATER)
    assert deal.stage_id == "invoice"


def test_reopen_needs_a_comment_and_a_closed_deal() -> None:
    with pytest.raises(CommentRequired):
        won_deal().reopen(SUPERVISOR, LATER, None)
    with pytest.raises(DealNotClosed):
        new_deal().reopen(SUPERVISOR, LATER, "why")


def test_reassign_hands_an_open_deal_over_and_keeps_its_place() -> None:
    deal = new_deal()
    entered = deal.stage_entered_at
    handed = deal.reassign(202, SUPERVISOR, LATER)
    assert deal.manager_id == 202
    assert (deal.stage_id, deal.stage_entered_at) == ("request", entered)
    assert (handed.from_manager_id, handed.to_manager_id, handed.actor_id, handed.at) == (
        MANAGER,
        202,
        SUPERVISOR,
        LATER,
    )


def test_reassign_refuses_a_closed_deal_and_the_same_manager() -> None:
    with pytest.raises(DealClosed):
        won_deal().reassign(202, SUPERVISOR, LATER)
    with pytest.raises(AlreadyAssigned):
        new_deal().reassign(MANAGER, SUPERVISOR, LATER)


# --- SLA ---------------------------------------------------------------------------------------


def test_stage_deadline_counts_working_hours() -> None:
    deal = new_deal()  # "request" has a 2-hour SLA
    deal.stage_entered_at = dt.datetime(2026, 5, 22, 17, 0, tzinfo=MSK)  # Friday
    deadline = deal.deadline(CALENDAR, PIPELINE)
    assert deadline == dt.datetime(2026, 5, 25, 10, 0, tzinfo=MSK)
    assert not deal.is_overdue(CALENDAR, PIPELINE, deadline - dt.timedelta(seconds=1))
    assert deal.is_overdue(CALENDAR, PIPELINE, deadline)


def test_entering_a_stage_restarts_its_deadline() -> None:
    deal = new_deal()
    entered = dt.datetime(2026, 5, 25, 12, 0, tzinfo=MSK)
    deal.advance(PIPELINE, {0, 1}, MANAGER, entered)  # "qualification": 8 hours
    assert deal.deadline(CALENDAR, PIPELINE) == dt.datetime(2026, 5, 26, 11, 0, tzinfo=MSK)


def test_first_response_deadline_of_a_saturday_lead() -> None:
    received = dt.datetime(2026, 5, 23, 14, 0, tzinfo=MSK)
    deadline = first_response_deadline(CALENDAR, BOOK, received)
    assert deadline == dt.datetime(2026, 5, 25, 9, 30, tzinfo=MSK)


# --- qualification on the deal -----------------------------------------------------------------


def test_a_complete_qualification_is_kept_on_the_deal() -> None:
    deal = new_deal()
    deal.record_qualification(score(make_framework(), {"budget": 2, "authority": 1, "need": 0}))
    assert (deal.qualification_level, deal.qualification_points) == (QualificationLevel.SQL, 5)


def test_an_incomplete_qualification_is_not_kept() -> None:
    deal = new_deal()
    with pytest.raises(QualificationIncomplete):
        deal.record_qualification(score(make_framework(), {"budget": 2}))
    assert deal.qualification_level is None


# --- guard rails -------------------------------------------------------------------------------


def test_a_stage_removed_from_the_book_is_reported() -> None:
    data = book_data()
    data["pipelines"][0]["stages"].pop(1)  # drop "qualification"
    edited = make_book(data).pipelines[0]
    deal = new_deal("qualification")
    with pytest.raises(UnknownStage) as raised:
        deal.advance(edited, {0}, MANAGER, LATER)
    assert (raised.value.pipeline_id, raised.value.stage_id) == ("b2b", "qualification")


def test_another_pipeline_is_a_programming_error() -> None:
    data = book_data()
    data["pipelines"][0]["id"] = "other"
    other = make_book(data).pipelines[0]
    with pytest.raises(ValueError, match="pipeline"):
        new_deal().advance(other, {0, 1}, MANAGER, LATER)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        new_deal().advance(PIPELINE, {0, 1}, MANAGER, dt.datetime(2026, 5, 20, 12, 0))


def test_errors_carry_data_print_and_pickle() -> None:
    error = ExitCriteriaNotMet(stage_id="request", missing=["Need recorded"], missing_indexes=[0])
    assert isinstance(error, DomainError)
    assert error.args == ("request", ["Need recorded"], [0])
    assert "missing=['Need recorded']" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.stage_id, copy.missing, copy.missing_indexes) == (
        "request",
        ["Need recorded"],
        [0],
    )
    assert str(CommentRequired()) == "CommentRequired()"


# --- any sequence of operations keeps the deal consistent ---------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["advance", "override", "back", "win", "lose", "reopen"]),
        st.integers(0, 3),  # ticked criteria count, or the target stage index for "back"
        st.sampled_from(["price", "competitor", "weather"]),
        st.sampled_from(["1000", "0", "12.345", "99.99"]),
    ),
    max_size=25,
)


@settings(max_examples=100, deadline=None)
@given(operations)
def test_any_sequence_of_operations_keeps_the_deal_consistent(
    steps: list[tuple[str, int, str, str]],
) -> None:
    deal = new_deal()
    now = CREATED_AT
    history: list[StageTransition] = []
    for kind, number, reason, amount in steps:
        now += dt.timedelta(minutes=5)
        try:
            if kind == "advance":
                criteria = PIPELINE.stage(deal.stage_id).exit_criteria
                ticked = set(range(min(number, len(criteria))))
                history.append(deal.advance(PIPELINE, ticked, MANAGER, now))
            elif kind == "override":
                history.append(deal.advance(PIPELINE, set(), SUPERVISOR, now, True, "ok"))
            elif kind == "back":
                history.append(
                    deal.move_back(PIPELINE, PIPELINE.stages[number].id, MANAGER, now, "why")
                )
            elif kind == "win":
                history.append(deal.win(Decimal(amount), MANAGER, now))
            elif kind == "lose":
                history.append(deal.lose(BOOK, reason, MANAGER, now))
            else:
                history.append(deal.reopen(SUPERVISOR, now, "again"))
        except DomainError:
            pass

        assert PIPELINE.stage_index(deal.stage_id) >= 0
        assert (deal.closed_at is None) == deal.is_open
        assert (deal.amount is not None) == (deal.status is DealStatus.WON)
        assert (deal.lost_reason_id is not None) == (deal.status is DealStatus.LOST)
        assert deal.stage_entered_at <= now

    # The history replays to the deal's current state.
    stage, status = "request", DealStatus.OPEN
    for transition in history:
        assert transition.from_stage == stage
        assert transition.deal_id == 7
        stage = transition.to_stage
        status = {
            TransitionKind.WON: DealStatus.WON,
            TransitionKind.LOST: DealStatus.LOST,
        }.get(transition.kind, DealStatus.OPEN)
    assert (stage, status) == (deal.stage_id, deal.status)
