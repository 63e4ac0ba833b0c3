"""`python -m bench.burst` at a handful of leads: the real bot started as `python run_bot.py`,
the echo bot beside it, and every check of the burst holding (the benchmark would otherwise
report figures of a path that did not work)."""

from __future__ import annotations

from bench.burst.command import parse_args, run_rounds
from bench.burst.common import STEPS
from bench.burst.report import Summary, render

LEADS = 5


async def test_a_small_burst_is_answered_confirmed_stored_and_carded() -> None:
    args = parse_args(["--leads", str(LEADS), "--managers", "2", "--step-timeout", "30"])
    results = await run_rounds(args)

    echo, lead = results["echo"][0], results["lead"][0]
    for result in (echo, lead):
        assert not result.errors, result.errors
        assert result.completed == LEADS
        assert result.updates == LEADS * len(STEPS)
        assert all(len(result.latencies[step]) == LEADS for step in STEPS)
        assert result.console is not None and result.console.lines == [], result.console
        assert result.peak_rss_kib and result.peak_rss_kib > 10_000
    assert lead.confirmed_once == LEADS
    assert lead.deals_one_each == LEADS
    assert lead.cards_delivered == LEADS and len(lead.card_latency) == LEADS
    assert sum(lead.deals_per_manager) == LEADS and len(lead.deals_per_manager) == 2

    report, status = render(Summary([echo]), Summary([lead]), ["code: test"], 1.0)
    assert status == 0, report
    assert f"confirmed exactly once: {LEADS}/{LEADS}" in report
    assert "Errors: none" in report
