"""The command line: both bots round after round, then the report."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import bench.burst
from bench.burst.common import BOTS, BenchError
from bench.burst.database import DATABASES, DEFAULT_POSTGRES_URL
from bench.burst.fleet import Deployment
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
    parser.add_argument(
        "--database", choices=DATABASES, help="sqlite (postgresql with --webhook, its only choice)"
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="both bots take webhooks behind nginx (TLS), the real bot on PostgreSQL and Redis",
    )
    parser.add_argument(
        "--instances", type=int, default=1, help="bot processes behind nginx (implies --webhook)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="the real bot's WORKERS: processes handling the updates one polls (polling only)",
    )
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/0", help="the real bot's Redis (webhook)"
    )
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
    if min(args.leads, args.rounds, args.managers, args.instances, args.workers) < 1:
        parser.error("--leads, --rounds, --managers, --instances and --workers must be positive")
    args.webhook = args.webhook or args.instances > 1
    if args.webhook and args.workers > 1:
        parser.error("--workers is for long polling: behind a webhook, use --instances")
    if args.webhook and args.database == "sqlite":
        parser.error("--webhook runs on PostgreSQL: several instances share its database")
    args.database = args.database or ("postgresql" if args.webhook else "sqlite")
    if args.webhook and shutil.which("nginx") is None:
        parser.error("--webhook needs nginx on PATH (apt-get install nginx-light)")
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
                deployment=Deployment(
                    args.webhook, args.instances, args.redis_url, workers=args.workers
                ),
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
