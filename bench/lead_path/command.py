"""The command: both workers in fresh interpreters, round after round, then the table."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import bench.lead_path
from bench.lead_path.common import BOTS, BenchError
from bench.lead_path.report import render
from bench.lead_path.worker import WorkerResult, run_worker
from bench.machine import PROJECT_ROOT, machine_info


def spawn_worker(name: str, args: argparse.Namespace) -> WorkerResult:
    command = [
        sys.executable,
        "-m",
        "bench.lead_path",
        "--worker",
        name,
        "--leads",
        str(args.leads),
        "--warmup",
        str(args.warmup),
        "--seed",
        str(args.seed),
    ]
    if args.no_tracemalloc:
        command.append("--no-tracemalloc")
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise BenchError(f"the {name} worker failed (exit status {done.returncode})")
    return WorkerResult(**json.loads(done.stdout.strip().splitlines()[-1]))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lead_path", description=bench.lead_path.__doc__
    )
    parser.add_argument("--leads", type=int, default=300, help="timed leads (6 updates each)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed leads first")
    parser.add_argument("--seed", type=int, default=1, help="names, phones, answers")
    parser.add_argument("--rounds", type=int, default=1, help="echo+lead pairs; medians shown")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the memory pass (faster)"
    )
    parser.add_argument(
        "--worker", choices=BOTS, help="run one bot in this process and print its JSON result"
    )
    parser.add_argument(
        "--profile", type=Path, help="with --worker: cProfile the timed pass into this file"
    )
    args = parser.parse_args(argv)
    if args.leads < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--leads and --rounds must be positive, --warmup not negative")
    if args.profile and not args.worker:
        parser.error("--profile needs --worker")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.worker:
            result = asyncio.run(
                run_worker(
                    args.worker,
                    args.leads,
                    args.warmup,
                    args.seed,
                    memory=not args.no_tracemalloc,
                    profile=args.profile,
                )
            )
            print(json.dumps(asdict(result)))
            return 0
        header = machine_info()  # before the run: the commit may move while it runs
        started = time.perf_counter()
        results: dict[str, list[WorkerResult]] = {name: [] for name in BOTS}
        for _ in range(args.rounds):
            for name in BOTS:
                results[name].append(spawn_worker(name, args))
        elapsed = time.perf_counter() - started
        table, ok = render(results["echo"], results["lead"], args, elapsed, header)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    print(table)
    return 0 if ok else 1
