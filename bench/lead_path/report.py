"""The report: both bots side by side, the lead path's steps, and whether the targets are met."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Iterator

from bench.lead_path.common import STEPS
from bench.lead_path.worker import WorkerResult

# Issue 14 restated them: at least a quarter of the echo bot's rate, p99 within 10 ms.
TARGET_RATIO = 0.25
TARGET_P99_MS = 10.0


def combine(results: list[WorkerResult]) -> WorkerResult:
    """The median of several rounds of one bot (the worst memory)."""
    if len(results) == 1:
        return results[0]

    def median(values: Iterator[float]) -> float:
        return statistics.median(list(values))

    first = results[0]
    peaks = [r.tracemalloc_peak_bytes for r in results if r.tracemalloc_peak_bytes is not None]
    return WorkerResult(
        bot=first.bot,
        updates=first.updates,
        seconds=median(r.seconds for r in results),
        updates_per_s=median(r.updates_per_s for r in results),
        p50_ms=median(r.p50_ms for r in results),
        p99_ms=median(r.p99_ms for r in results),
        max_ms=max(r.max_ms for r in results),
        steps={
            step: [median(r.steps[step][i] for r in results) for i in range(3)]
            for step in first.steps
        },
        queries=first.queries,
        tracemalloc_peak_bytes=max(peaks) if peaks else None,
        max_rss_kb=max(r.max_rss_kb for r in results),
        deals=first.deals,
        errors=sum(r.errors for r in results),
    )


def render(
    echo_rounds: list[WorkerResult],
    lead_rounds: list[WorkerResult],
    args: argparse.Namespace,
    elapsed: float,
    header: list[str],
) -> tuple[str, bool]:
    echo, lead = combine(echo_rounds), combine(lead_rounds)
    ratio = lead.updates_per_s / echo.updates_per_s
    ratio_ok = ratio >= TARGET_RATIO
    p99_ok = lead.p99_ms <= TARGET_P99_MS
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    lines = [
        *header,
        f"{args.leads} leads x {len(STEPS)} updates after {args.warmup} warm-up leads, "
        f"seed {args.seed}{rounds}; total {elapsed:.1f} s",
        "",
        "| bot | updates | updates/s | p50 ms | p99 ms | max ms | peak traced memory | max RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result, label in ((echo, "bare aiogram echo bot"), (lead, "lead path (full bot)")):
        peak = (
            f"{result.tracemalloc_peak_bytes / 2**20:.1f} MiB"
            if result.tracemalloc_peak_bytes is not None
            else "—"
        )
        lines.append(
            f"| {label} | {result.updates} | {result.updates_per_s:,.0f} | {result.p50_ms:.2f} "
            f"| {result.p99_ms:.2f} | {result.max_ms:.2f} | {peak} "
            f"| {result.max_rss_kb / 1024:.0f} MiB |"
        )
    lines += [
        "",
        f"ratio (lead path updates/s ÷ echo updates/s): {ratio:.3f} "
        f"(target >= {TARGET_RATIO}): {'PASS' if ratio_ok else 'FAIL'}",
        f"lead path p99: {lead.p99_ms:.2f} ms (target <= {TARGET_P99_MS:g} ms): "
        f"{'PASS' if p99_ok else 'FAIL'}",
        f"deals in the database: {lead.deals} (one per lead, warm-up and memory pass included)",
        *(
            [
                "updates/s per round: echo "
                + ", ".join(f"{r.updates_per_s:,.0f}" for r in echo_rounds)
                + "; lead path "
                + ", ".join(f"{r.updates_per_s:,.0f}" for r in lead_rounds)
                + "; lead p99 ms "
                + ", ".join(f"{r.p99_ms:.1f}" for r in lead_rounds)
            ]
            if len(lead_rounds) > 1
            else []
        ),
        "",
        "updates/s: timed updates ÷ wall time of the timed pass; p50/p99/max: per update, "
        "Update.model_validate + Dispatcher.feed_update. Peak traced memory: tracemalloc peak "
        f"over a separate pass of {args.leads} more leads (tracemalloc slows everything, so it "
        "is off in the timed pass). Max RSS: the worker process's ru_maxrss after the timed "
        "pass, imports included.",
        "",
        "| lead step | p50 ms | p99 ms | mean ms | SQL statements | DB sessions |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {step} | {p50:.2f} | {p99:.2f} | {mean:.2f} | {_queries(lead, step)} |"
            for step, (p50, p99, mean) in lead.steps.items()
        ),
        "",
        "SQL statements and DB sessions (connection checkouts) are per update, counted during "
        "the warm-up, not in the timed pass.",
    ]
    return "\n".join(lines), ratio_ok and p99_ok


def _queries(result: WorkerResult, step: str) -> str:
    if result.queries is None:
        return "— | —"
    statements, checkouts = result.queries[step]
    return f"{statements:.1f} | {checkouts:.1f}"
