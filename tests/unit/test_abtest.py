from __future__ import annotations

import pytest

from domain.abtest import Proportion, compare


def test_a_clear_difference_is_a_verdict() -> None:
    # pooled 45/100 = 0.45; spread sqrt(0.45 x 0.55 x (1/50 + 1/50)) = 0.099499;
    # z = (0.6 - 0.3) / 0.099499 = 3.0151; two-sided p = erfc(3.0151 / sqrt 2) = 0.00257
    result = compare(Proportion(30, 50), Proportion(15, 50))
    assert result.p_value == pytest.approx(0.00257, abs=1e-5)
    assert result.better == 0
    assert compare(Proportion(15, 50), Proportion(30, 50)).better == 1


def test_a_small_difference_is_not_enough_data() -> None:
    # pooled 55/100; spread 0.099499; z = (0.6 - 0.5) / 0.099499 = 1.005; p = 0.315
    result = compare(Proportion(30, 50), Proportion(25, 50))
    assert result.p_value == pytest.approx(0.315, abs=1e-3)
    assert result.better is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Proportion(3, 5), Proportion(1, 5)),  # too few uses
        (Proportion(4, 40), Proportion(20, 40)),  # fewer than five successes on one side
        (Proportion(38, 40), Proportion(20, 40)),  # fewer than five failures on one side
        (Proportion(0, 0), Proportion(10, 20)),
    ],
)
def test_too_little_data_is_not_tested(first: Proportion, second: Proportion) -> None:
    assert compare(first, second).p_value is None
    assert compare(first, second).better is None
