"""The command line: both bots round after round, then the report."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import bench.burst
from bench.burst.common import BOTS, BenchError
from bench.burst.database import DATABASES, DEFAULT_POSTGRES_URL
from bench.burst.report import Summary, render
from bench.burst.run import RunResult, RunSettings, run_once
from bench.machine import machine_info


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.burst",
        description=bench.burst.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--leads", type=int, default=200, help="people at once (6 updates each)")
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="the PostgreSQL server (a fresh database is created on it per run, then dropped)",
    )
    parser.add_argument(
        "--managers", type=int, default=30, help="managers the cards are spread over"
    )
    parser.add_argument("--rounds", type=int, default=1, help="echo + bot pairs; medians shown")
    parser.add_argument("--seed", type=int, default=1, help="names, phones, answers")
    parser.add_argument(
        "--step-timeout", type=float, default=120.0, help="seconds a person waits for an answer"
    )
    parser.add_argument(
        "--card-timeout",
        type=float,
        help="seconds to wait for the cards after the burst (default: from their pace)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the bot during the first round's burst into this file "
        "(.svg flame graph, .json speedscope, else collapsed stacks)",
    )
    parser.add_argument(
        "--console", type=Path, help="append everything each bot process printed to this file"
    )
    args = parser.parse_args(argv)
    if args.leads < 1 or args.rounds < 1 or args.managers < 1:
        parser.error("--leads, --rounds and --managers must be positive")
    return args


async def run_rounds(args: argparse.Namespace) -> dict[str, list[RunResult]]:
    results: dict[str, list[RunResult]] = {bot: [] for bot in BOTS}
    for round_index in range(args.rounds):
        for bot in BOTS:
            profile = args.profile if bot == "lead" and round_index == 0 else None
            settings = RunSettings(
                bot=bot,
                leads=args.leads,
                database=args.database,
                postgres_url=args.postgres_url,
                managers=args.managers,
                seed=args.seed,
                step_timeout=args.step_timeout,
                card_timeout=args.card_timeout,
                profile=profile,
                console_log=args.console,
            )
            results[bot].append(await run_once(settings))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Each call the fake refuses is also a line of the report: not printed twice.
    logging.getLogger("tests.fake_telegram").setLevel(logging.ERROR)
    header = machine_info()  # before the run: the commit may move while it runs
    load = _load()
    started = time.perf_counter()
    try:
        results = asyncio.run(run_rounds(args))
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    # Other processes on a small machine move these figures: say how busy it was.
    header.append(f"load average: {load} at the start, {_load()} at the end")
    report, status = render(Summary(results["echo"]), Summary(results["lead"]), header, elapsed)
    print(report)
    return status


def _load() -> str:
    """The 1-minute load average ("—" where the system does not tell)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "—"
