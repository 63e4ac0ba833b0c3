"""The report: both bots side by side, the steps, the checks, and the targets of issue 14."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.burst.common import CONSENT_ANSWERED, STEPS
from bench.burst.run import RunResult

TARGET_RATIO = 0.5
"""This bot's updates/s against the echo bot's (N=200, SQLite)."""


TARGET_P99_FACTOR = 2.0
"""This bot's reply p99 against the echo bot's (N=200, SQLite)."""


ALL = "all steps"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Summary:
    """One bot over its rounds: medians of the per-round figures (the worst max and memory)."""

    rounds: list[RunResult]

    @property
    def first(self) -> RunResult:
        return self.rounds[0]

    def median(self, values: Iterable[float]) -> float:
        return statistics.median(list(values))

    @property
    def updates_per_s(self) -> float:
        return self.median(r.updates_per_s for r in self.rounds)

    def step(self, name: str) -> tuple[float, float, float] | None:
        """(p50, p99, max) in seconds; None when no round has the step."""
        per_round = [_all(r) if name == ALL else r.latencies.get(name) for r in self.rounds]
        present = [values for values in per_round if values]
        if not present:
            return None
        return (
            self.median(percentile(v, 50) for v in present),
            self.median(percentile(v, 99) for v in present),
            max(max(v) for v in present),
        )

    @property
    def peak_rss_kib(self) -> int | None:
        found = [r.peak_rss_kib for r in self.rounds if r.peak_rss_kib is not None]
        return max(found) if found else None

    @property
    def errors(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for r in self.rounds:
            total.update(r.errors)
        return total


def _all(result: RunResult) -> list[float]:
    return [v for step in STEPS for v in result.latencies.get(step, [])]


def render(echo: Summary, lead: Summary, header: Sequence[str], elapsed: float) -> tuple[str, int]:
    """The markdown report and the exit status (0 targets met, 1 a target missed, 2 a check
    did not hold)."""
    first = lead.first
    rounds = len(lead.rounds)
    lines = [
        *header,
        f"burst: {first.leads} leads x {len(STEPS)} updates at once, {_deployment(first)}, "
        f"database {first.database}, {first.managers} managers"
        + (f", median of {rounds} rounds" if rounds > 1 else "")
        + f"; total {elapsed:.0f} s",
        "",
        "| bot | updates | updates/s | reply p50 | reply p99 | reply max | max RSS "
        "| bot CPU | judge CPU | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    instances = first.deployment.instances
    both = f", {instances} instances" if first.deployment.webhook else ""
    workers = first.deployment.workers
    ours = f", WORKERS={workers}" if workers > 1 else ""
    labels = (
        (echo, f"bare aiogram echo bot{both}"),
        (lead, f"this bot (run_bot.py, {first.database}{both}{ours})"),
    )
    for summary, label in labels:
        p50, p99, worst = summary.step(ALL) or (0.0, 0.0, 0.0)
        rss = summary.peak_rss_kib
        lines.append(
            f"| {label} | {summary.first.updates:,} | {summary.updates_per_s:,.0f} "
            f"| {_ms(p50)} | {_ms(p99)} | {_ms(worst)} "
            f"| {f'{rss / 1024:.0f} MiB' if rss else '—'} "
            f"| {_share(r.bot_cpu for r in summary.rounds)} "
            f"| {_share(r.judge_cpu for r in summary.rounds)} "
            f"| {sum(summary.errors.values())} |"
        )
    lines += ["", _step_table_head(), "|---|---:|---:|---:|---:|---:|---:|"]
    for step in (*STEPS, CONSENT_ANSWERED, ALL):
        cells = []
        for summary in (echo, lead):
            figures = summary.step(step)
            cells += [_ms(v) for v in figures] if figures else ["—"] * 3
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    if rounds > 1:
        lines += ["", _per_round(echo, lead)]
    lines += ["", *_checks(lead), "", *_errors(echo, lead)]
    verdicts, status = _targets(echo, lead)
    lines += ["", *verdicts, "", *_notes()]
    return "\n".join(lines), status


def _deployment(result: RunResult) -> str:
    deployment = result.deployment
    if not deployment.webhook and deployment.workers > 1:
        return (
            f"long polling; the echo bot one process, this bot a poller and "
            f"{deployment.workers} workers"
        )
    if not deployment.webhook:
        return "long polling, one process each"
    return (
        f"webhooks through nginx (TLS) to {deployment.instances} process(es) of each bot, "
        "this bot's on Redis"
    )


def _step_table_head() -> str:
    return (
        "| step (ms) | echo p50 | echo p99 | echo max | this bot p50 | this bot p99 "
        "| this bot max |"
    )


def _per_round(echo: Summary, lead: Summary) -> str:
    def figures(summary: Summary) -> str:
        return ", ".join(
            f"{r.updates_per_s:,.0f}/s p99 {_ms(percentile(_all(r), 99))} ms"
            for r in summary.rounds
            if _all(r)
        )

    return f"per round: echo {figures(echo)}; this bot {figures(lead)}"


def _checks(lead: Summary) -> list[str]:
    lines = ["Checks (this bot):"]
    for number, r in enumerate(lead.rounds, 1):
        if len(lead.rounds) > 1:
            lines.append(f"round {number}:")
        console = r.console
        card_p50 = percentile(r.card_latency, 50) if r.card_latency else 0.0
        after = r.cards_after_last_reply
        lines += [
            f"- confirmed exactly once: {r.confirmed_once}/{r.leads}; one deal each in the "
            f"database, the number they were told: {r.deals_one_each}/{r.leads}",
            f"- cards delivered to {r.managers} managers: {r.cards_delivered}/{r.leads}"
            + (
                f"; the last {after:.1f} s after the burst's last answer; confirmation to card "
                f"p50 {card_p50:.1f} s, max {max(r.card_latency):.1f} s"
                if after is not None and r.card_latency
                else ""
            ),
            _spread(r),
            f"- busiest second: {r.busiest_second} messages accepted (Telegram allows about 30)",
            f"- the bot's console at WARNING: {len(console.lines) if console else '?'} lines, "
            f"{console.tracebacks if console else '?'} tracebacks, "
            f'{console.locked if console else "?"} "database is locked"',
        ]
    return lines


def _spread(r: RunResult) -> str:
    """How evenly the round robin dealt the requests: with one manager's chat paced at a
    message a second, the busiest manager sets how long the last card takes."""
    per = r.deals_per_manager
    if not per:
        return "- deals per manager: —"
    even = f"{r.leads // len(per)}-{math.ceil(r.leads / len(per))}"
    return f"- deals per manager: {min(per)} to {max(per)} (an even round robin: {even})"


def _errors(echo: Summary, lead: Summary) -> list[str]:
    lines = []
    for summary, label in ((echo, "echo bot"), (lead, "this bot")):
        for error, count in summary.errors.most_common():
            lines.append(f"- {label}: {count} x {error}")
        for r in summary.rounds:
            if r.console is None:
                continue
            for line, count in r.console.exceptions.most_common(5):
                lines.append(f"- {label}'s console: {count} x traceback ending {line}")
    return ["Errors:", *lines] if lines else ["Errors: none"]


def _targets(echo: Summary, lead: Summary) -> tuple[list[str], int]:
    """Issue 14's targets: at N=200 on SQLite the speed against the echo bot; at any N, no
    error and nothing lost or doubled (every check above is an error when it fails)."""
    first = lead.first
    ratio = lead.updates_per_s / echo.updates_per_s if echo.updates_per_s else 0.0
    echo_p99 = (echo.step(ALL) or (0.0, 0.0, 0.0))[1]
    lead_p99 = (lead.step(ALL) or (0.0, 0.0, 0.0))[1]
    errors = sum(lead.errors.values()) + sum(echo.errors.values())
    speed_applies = first.leads == 200 and first.database == "sqlite"
    applies = "" if speed_applies else " (the target is for N=200 on SQLite: not judged here)"
    ratio_ok = ratio >= TARGET_RATIO
    p99_ok = lead_p99 <= TARGET_P99_FACTOR * echo_p99
    lines = [
        "Targets (issue 14):",
        f"- updates/s, this bot ÷ echo: {ratio:.2f} (target >= {TARGET_RATIO}){applies}: "
        + _verdict(ratio_ok, speed_applies),
        f"- reply p99, this bot {_ms(lead_p99)} ms against 2 x echo {_ms(2 * echo_p99)} ms"
        f"{applies}: " + _verdict(p99_ok, speed_applies),
        f"- errors (every check above; 4xx; stuck leads; console): {errors} (target 0): "
        + _verdict(errors == 0, True),
    ]
    if errors:
        return lines, 2
    if speed_applies and not (ratio_ok and p99_ok):
        return lines, 1
    return lines, 0


def _notes() -> list[str]:
    return [
        "updates/s: every update of the burst ÷ the time from the first update queued to the "
        "last answer. Reply latency: from the update queued (for getUpdates, or the webhook) to "
        "the bot's answer arriving at the fake Bot API (the answer a person waits for to go on; "
        "see bench/burst/people.py). Max RSS: VmHWM of the bot's (largest) process after the "
        "burst and the cards. CPU: of one core, over the burst, the bot's processes together "
        "(the judge is this process: the fake Bot API and the people; nginx is not counted).",
    ]


def _verdict(ok: bool, applies: bool) -> str:
    if not applies:
        return "—"
    return "PASS" if ok else "FAIL"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def _share(values: Iterable[float]) -> str:
    return f"{statistics.median(list(values)) * 100:.0f}%"
