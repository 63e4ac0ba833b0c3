from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.assignment import pick_next_manager


def assign_many(candidates: list[int], leads: int, last: int | None = None) -> list[int]:
    assigned: list[int] = []
    for _ in range(leads):
        chosen = pick_next_manager(candidates, last)
        assert chosen is not None
        assigned.append(chosen)
        last = chosen
    return assigned


def test_nobody_to_assign_to() -> None:
    assert pick_next_manager([], None) is None
    assert pick_next_manager([], 7) is None


def test_first_lead_goes_to_the_smallest_id() -> None:
    assert pick_next_manager([30, 10, 20], None) == 10


def test_turns_go_round_in_id_order_and_wrap() -> None:
    assert assign_many([30, 10, 20], 5) == [10, 20, 30, 10, 20]


def test_duplicates_in_the_candidates_do_not_get_extra_turns() -> None:
    assert assign_many([10, 20, 20, 10], 4) == [10, 20, 10, 20]


def test_fair_over_many_leads() -> None:
    counts = Counter(assign_many([5, 3, 8, 1], 400))
    assert set(counts.values()) == {100}


def test_a_removed_manager_is_skipped() -> None:
    # 20 got the last lead and then left: the turn passes to the one after 20, not back to 10.
    assert pick_next_manager([10, 30], last_assigned_id=20) == 30
    # Someone in the middle left: the ring closes over the gap.
    assert assign_many([10, 30], 3, last=10) == [30, 10, 30]


def test_a_removed_last_manager_wraps_to_the_first() -> None:
    assert pick_next_manager([10, 20], last_assigned_id=30) == 10


def test_a_newly_added_manager_gets_a_turn_in_the_same_round() -> None:
    assigned = assign_many([10, 20, 30], 2)  # 10, 20
    assigned += assign_many([10, 20, 25, 30], 3, last=assigned[-1])
    assert assigned == [10, 20, 25, 30, 10]


@settings(max_examples=100, deadline=None)
@given(
    st.sets(st.integers(1, 10**12), min_size=1, max_size=12),
    st.one_of(st.none(), st.integers(1, 10**12)),
    st.integers(1, 5),
)
def test_every_manager_gets_exactly_one_lead_per_round(
    candidates: set[int], last: int | None, rounds: int
) -> None:
    ordered = list(candidates)
    counts = Counter(assign_many(ordered, rounds * len(ordered), last))
    assert counts == dict.fromkeys(candidates, rounds)
