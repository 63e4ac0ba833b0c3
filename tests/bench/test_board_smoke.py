"""`python -m bench.board` at a handful of deals and requests: the board it times shows every
deal (the benchmark would otherwise time a board that did not work)."""

from __future__ import annotations

from pathlib import Path

from bench.board import run


async def test_a_small_board_is_served_and_timed(tmp_path: Path) -> None:
    timings = await run(deals=12, requests=5, folder=tmp_path)
    assert len(timings) == 5 and all(ms > 0 for ms in timings)
