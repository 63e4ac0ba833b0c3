"""Comparing two script variants: is one's "helped" (or later win) rate really higher, or is the
difference what chance gives with this little data? A two-proportion z-test (normal
approximation, pooled variance, two-sided); a verdict only when p < 0.05 and each variant has
enough uses for the approximation to hold (at least 5 successes and 5 failures overall in each)."""

from __future__ import annotations

import math
from dataclasses import dataclass

SIGNIFICANCE = 0.05
MIN_EACH_WAY = 5


@dataclass(frozen=True, slots=True)
class Proportion:
    successes: int
    trials: int

    @property
    def rate(self) -> float | None:
        return self.successes / self.trials if self.trials else None


@dataclass(frozen=True, slots=True)
class Comparison:
    p_value: float | None
    """None when there is too little data to test at all."""
    better: int | None
    """0 or 1: the variant whose rate is meaningfully higher; None: not enough data."""


def compare(first: Proportion, second: Proportion) -> Comparison:
    for side in (first, second):
        if side.successes < MIN_EACH_WAY or side.trials - side.successes < MIN_EACH_WAY:
            return Comparison(None, None)
    pooled = (first.successes + second.successes) / (first.trials + second.trials)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / first.trials + 1 / second.trials))
    if spread == 0:
        return Comparison(None, None)
    z = (first.successes / first.trials - second.successes / second.trials) / spread
    p_value = math.erfc(abs(z) / math.sqrt(2))
    if p_value >= SIGNIFICANCE:
        return Comparison(p_value, None)
    return Comparison(p_value, 0 if z > 0 else 1)
