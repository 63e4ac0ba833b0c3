"""How long `import bot.app` takes against `import aiogram, sqlalchemy`, the two libraries the bot
cannot start without: the bot's own start-up import should cost at most 1.2 times theirs.

Each run is a fresh interpreter (`python -c ...`, so nothing is cached in the process; the OS
file cache is warm after the first, untimed round). The commands take turns, so a load that
comes and goes on a shared machine falls on both alike; the medians are compared. Besides the
wall-clock time, the CPU time the interpreter used (user + system) is reported: on a busy
machine it moves much less than the wall clock, which also counts the time spent waiting for a
core.

    .venv/bin/python -m bench.import_time            # 10 rounds
    .venv/bin/python -m bench.import_time --runs 20
    git archive main | tar -x -C /tmp/main-tree      # another version of the code, e.g. main
    .venv/bin/python -m bench.import_time --also /tmp/main-tree

Each `--also DIR` adds a command, `import bot.app` run in DIR with the same interpreter and
packages (the current directory comes first on `sys.path`, so DIR's code is imported).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BASELINE = "import aiogram, sqlalchemy"
BOT = "import bot.app"
TARGET_RATIO = 1.2


@dataclass(frozen=True)
class Command:
    label: str
    statement: str
    directory: Path


@dataclass
class Runs:
    """Seconds per run of one command."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(command: Command, runs: Runs) -> None:
    """Times a fresh interpreter from its start to its exit after the command's statement."""
    cpu_before, started = children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", command.statement], cwd=command.directory, check=True)
    runs.wall.append(time.perf_counter() - started)
    runs.cpu.append(children_cpu() - cpu_before)


def measure(commands: list[Command], rounds: int) -> dict[Command, Runs]:
    # One untimed round first, so no command pays for a cold file cache.
    for command in commands:
        one_run(command, Runs())
    runs = {command: Runs() for command in commands}
    for round_number in range(rounds):
        # Turning the order round each time keeps a slow moment from always landing on one.
        shift = round_number % len(commands)
        for command in commands[shift:] + commands[:shift]:
            one_run(command, runs[command])
    return runs


def table(runs: dict[Command, Runs]) -> str:
    median = statistics.median
    baseline = next(iter(runs.values()))
    rows = [
        "| command | wall median, s | wall min-max, s | CPU median, s | wall, CPU / baseline |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {command.label} | {median(times.wall):.2f} | "
            f"{min(times.wall):.2f}-{max(times.wall):.2f} | {median(times.cpu):.2f} | "
            f"{median(times.wall) / median(baseline.wall):.2f}, "
            f"{median(times.cpu) / median(baseline.cpu):.2f} |"
            for command, times in runs.items()
        ),
    ]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return "\n".join(
        [
            *rows,
            "",
            f"Target: `import bot.app` <= {TARGET_RATIO}x the baseline. "
            f"{len(baseline.wall)} runs each; load average {load} at the end, "
            f"on {os.cpu_count()} CPUs.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_time",
        description="Time `import bot.app` against `import aiogram, sqlalchemy`.",
    )
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command")
    parser.add_argument(
        "--also",
        type=Path,
        action="append",
        default=[],
        help="another checkout whose `import bot.app` is timed too (may be repeated)",
    )
    args = parser.parse_args(argv)
    commands = [
        Command(f"`python -c '{BASELINE}'`", BASELINE, PROJECT_ROOT),
        Command(f"`python -c '{BOT}'`", BOT, PROJECT_ROOT),
    ]
    commands += [Command(f"`python -c '{BOT}'` in {path}", BOT, path) for path in args.also]
    print(table(measure(commands, args.runs)))


if __name__ == "__main__":
    main()
