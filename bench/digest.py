"""The digest benchmark: yesterday's digest over 10,000, 100,000 and 1,000,000 deals of history
in SQLite, timed with its peak memory; the claim is that it costs what yesterday holds, not what
the history holds.

    python -m bench.digest [--sizes 10000 100000 1000000] [--repeat 7] [--example PATH]

1. The demo-data command (`services.demo_data`) fills a template SQLite file: 5 managers, one
   supervisor and 10,000 deals that lived through the 91 days before NOW (Tuesday 24.11.2026,
   09:00 MSK), with their stage history, activities and qualification answers, through the
   domain as real deals are.
2. A bigger history is that quarter repeated further back: copy k is the template's deals, stage
   history and activities shifted back by k x 91 days (13 weeks, so weekdays stay weekdays),
   with new ids; a copied deal that was still open is closed as lost, because nothing stays open
   for years. 1,000,000 deals are the template and 99 copies, reaching 25 years back.
3. Each size is timed in a fresh interpreter (a subprocess: `--worker PATH`): the supervisor's
   digest for yesterday (`services.digest.figures` with the team's lens, every query of it) plus
   its caption, `--repeat` times; the first run is reported apart (cold: the process's first
   queries), the rest as a median. The chart is drawn once and timed apart, because it costs
   the same whatever the history. Peak memory is tracemalloc's peak over one more run, and the
   worker's max RSS.
4. `--example PATH` also saves a morning digest (the chart as PATH, the caption beside it as
   .txt) of a demo team at its own scale, 600 deals a quarter, for the docs.

Target: 1,000,000 deals under 1 s and at most 2x the 10,000 figure (warm medians). Exit status 0
when both hold, 1 when not, 2 when a worker failed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.machine import machine_info

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
"""A Tuesday morning: yesterday is a whole working day."""
TEMPLATE_DEALS = 10_000
TEMPLATE_DAYS = 91
EXAMPLE_DEALS = 600
"""The docs' example digest: a team of five at its own scale (about 200 requests a month)."""
SHIFT_DAYS = 91
TARGET_SECONDS = 1.0
TARGET_RATIO = 2.0
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SizeResult:
    deals: int
    file_mib: float
    cold_ms: float
    warm_ms: float
    """Median of the runs after the first."""
    warm_max_ms: float
    chart_ms: float
    peak_traced_mib: float
    max_rss_mib: float
    caption_chars: int


# --- the history -------------------------------------------------------------------------------


def make_template(path: Path, deals: int = TEMPLATE_DEALS) -> None:
    """The demo-data command's quarter: `deals` deals in the 91 days before NOW."""
    command = [
        sys.executable,
        "-m",
        "services.demo_data",
        "--managers",
        "5",
        "--supervisors",
        "1",
        "--deals",
        str(deals),
        "--days",
        str(TEMPLATE_DAYS),
        "--seed",
        "1",
        "--now",
        NOW.isoformat(),
        "--database-url",
        f"sqlite+aiosqlite:///{path}",
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)


def grow(path: Path, copies: int, lost_reason: str) -> None:
    """Append `copies` earlier quarters to the template's history (see the module's docstring)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    span = int(connection.execute("SELECT max(id) FROM deals").fetchone()[0])
    deals = _columns(connection, "deals")
    history = _columns(connection, "stage_transitions")
    activities = _columns(connection, "activities")
    for copy in range(1, copies + 1):
        shift = f"'-{copy * SHIFT_DAYS} days'"
        open_ = "status = 'open'"

        def moved(column: str, shift: str = shift) -> str:
            # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" text: shift the date and time, keep the
            # fraction, so copies compare with the bot's own values as its values do.
            return f"strftime('%Y-%m-%d %H:%M:%S', {column}, {shift}) || substr({column}, 20)"

        deal_values = {
            name: moved(name) if kind == "DATETIME" else name for name, kind in deals.items()
        }
        deal_values.update(
            {
                "id": f"id + {copy * span}",
                "status": f"CASE WHEN {open_} THEN 'lost' ELSE status END",
                "lost_reason_id": f"CASE WHEN {open_} THEN '{lost_reason}' ELSE lost_reason_id END",
                "closed_at": f"CASE WHEN {open_} THEN strftime('%Y-%m-%d %H:%M:%S', "
                f"stage_entered_at, {shift}, '+14 days') || substr(stage_entered_at, 20) "
                f"ELSE {moved('closed_at')} END",
                "deadline_at": "NULL",
                "snoozed_until": "NULL",
                "snooze_reason": "NULL",
                "lead_chat_id": "NULL",
            }
        )
        _copy(connection, "deals", deal_values, where=f"id <= {span}")
        for table, columns in (("stage_transitions", history), ("activities", activities)):
            values = {
                name: moved(name) if kind == "DATETIME" else name
                for name, kind in columns.items()
                if name != "id"
            }
            values["deal_id"] = f"deal_id + {copy * span}"
            _copy(connection, table, values, where=f"deal_id <= {span}")
        connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _columns(connection: sqlite3.Connection, table: str) -> dict[str, str]:
    return {row[1]: row[2].upper() for row in connection.execute(f"PRAGMA table_info({table})")}


def _copy(connection: sqlite3.Connection, table: str, values: dict[str, str], where: str) -> None:
    """INSERT … SELECT of the template's rows (`where` keeps earlier copies out)."""
    names = ", ".join(values)
    expressions = ", ".join(values.values())
    connection.execute(
        f"INSERT INTO {table} ({names}) SELECT {expressions} FROM {table} WHERE {where}"
    )


# --- one size, in its own interpreter ---------------------------------------------------------


async def measure(path: Path, repeat: int) -> tuple[SizeResult, bytes, str]:
    """The timings, and the morning digest's chart and caption (for the docs' example)."""
    from sqlalchemy import func, select

    from bot.screens.digest import caption, chart
    from bot.telegram.i18n import create_i18n
    from domain.book_loading import parse_sales_book
    from domain.clock import FixedClock
    from domain.forecast import PlanMonth
    from domain.kpi import named_period
    from domain.roles import Role
    from domain.sales_book import DEFAULT_SALES_BOOK_PATH
    from domain.working_time import WorkingCalendar
    from services.digest import digest, figures
    from services.lens import lens
    from services.staff import Actor
    from storage.database import create_engine, create_session_factory
    from storage.models import DealRow, StaffRow
    from storage.unit_of_work import UnitOfWork

    book = parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))
    calendar = WorkingCalendar.from_book(book.working_hours)
    zone = ZoneInfo(book.working_hours.timezone)
    clock = FixedClock(NOW)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    session_factory = create_session_factory(engine)
    i18n = create_i18n("ru")
    async with session_factory() as session:
        head = await session.scalar(
            select(StaffRow.telegram_id).where(StaffRow.role == Role.SUPERVISOR.value)
        )
        deals = await session.scalar(select(func.count()).select_from(DealRow)) or 0
    assert head is not None, "the demo data has a supervisor"
    actor = Actor(head, Role.SUPERVISOR, "", None, "ru")
    yesterday = named_period("yesterday", NOW, zone)

    async def once() -> str:
        uow = UnitOfWork(session_factory)
        team = await lens(uow, book, actor, PlanMonth(NOW, calendar, zone))
        figures_now = await figures(uow, clock, book, calendar, team, yesterday, zone)
        return caption(figures_now, book)

    with i18n.context(), i18n.use_locale("ru"):
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            text = await once()
            timings.append((time.perf_counter() - started) * 1000)
        gc.collect()
        tracemalloc.start()
        await once()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        morning = await digest(UnitOfWork(session_factory), clock, book, calendar, actor, zone)
        started = time.perf_counter()
        png = await chart(morning, book)
        chart_ms = (time.perf_counter() - started) * 1000
        morning_caption = caption(morning, book)
    await engine.dispose()
    warm = timings[1:] or timings
    result = SizeResult(
        deals=deals,
        file_mib=0.0,  # the caller knows the file
        cold_ms=timings[0],
        warm_ms=statistics.median(warm),
        warm_max_ms=max(warm),
        chart_ms=chart_ms,
        peak_traced_mib=peak / 2**20,
        max_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        caption_chars=len(text),
    )
    return result, png, morning_caption


def run_worker(path: Path, repeat: int, example: Path | None) -> SizeResult:
    command = [sys.executable, "-m", "bench.digest", "--worker", str(path), "--repeat", str(repeat)]
    if example is not None:
        command += ["--example", str(example.resolve())]
    done = subprocess.run(command, cwd=PROJECT_ROOT, check=True, capture_output=True, text=True)
    return SizeResult(**json.loads(done.stdout.strip().splitlines()[-1]))


# --- the whole run -----------------------------------------------------------------------------


def render(results: Sequence[SizeResult], header: list[str], elapsed: float) -> tuple[str, bool]:
    smallest, largest = results[0], results[-1]
    ratio = largest.warm_ms / smallest.warm_ms
    fast = largest.warm_ms < TARGET_SECONDS * 1000
    flat = ratio <= TARGET_RATIO
    lines = [
        *header,
        f"yesterday's digest (the supervisor's, every figure) at {NOW:%d.%m.%Y %H:%M %Z}; "
        f"total {elapsed:.0f} s",
        "",
        "| deals of history | SQLite file | first run | median of the rest (max) | chart "
        "| peak traced memory | max RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.deals:,} | {result.file_mib:,.0f} MiB | {result.cold_ms:.0f} ms "
            f"| {result.warm_ms:.0f} ms ({result.warm_max_ms:.0f}) | {result.chart_ms:.0f} ms "
            f"| {result.peak_traced_mib:.1f} MiB | {result.max_rss_mib:.0f} MiB |"
        )
    lines += [
        "",
        f"{largest.deals:,} deals: {largest.warm_ms:.0f} ms (target < {TARGET_SECONDS * 1000:.0f}"
        f" ms): {'PASS' if fast else 'FAIL'}",
        f"{largest.deals:,} against {smallest.deals:,}: {ratio:.2f}x (target <= "
        f"{TARGET_RATIO:g}x): {'PASS' if flat else 'FAIL'}",
    ]
    return "\n".join(lines), fast and flat


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.digest", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per size")
    parser.add_argument(
        "--example",
        type=Path,
        help=f"also save a morning digest's chart (PATH) and caption (.txt) from a demo team "
        f"of {EXAMPLE_DEALS} deals a quarter",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(size < TEMPLATE_DEALS or size % TEMPLATE_DEALS for size in args.sizes):
        parser.error(f"sizes are multiples of {TEMPLATE_DEALS:,}")
    if args.repeat < 2:
        parser.error("--repeat must be at least 2 (the first run is reported apart)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        result, png, morning_caption = asyncio.run(measure(args.worker, args.repeat))
        result.file_mib = args.worker.stat().st_size / 2**20
        if args.example is not None:
            args.example.write_bytes(png)
            args.example.with_suffix(".txt").write_text(morning_caption + "\n", "utf-8")
        print(json.dumps(asdict(result)))
        return 0
    from domain.book_loading import parse_sales_book
    from domain.sales_book import DEFAULT_SALES_BOOK_PATH

    book = parse_sales_book(DEFAULT_SALES_BOOK_PATH.read_text(encoding="utf-8"))
    lost_reason = book.lost_reasons[0].id
    header = machine_info()
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="salesbot-digest-bench-") as tmp:
        template = Path(tmp) / "template.sqlite3"
        make_template(template)
        try:
            if args.example is not None:
                small = Path(tmp) / "example.sqlite3"
                make_template(small, EXAMPLE_DEALS)
                run_worker(small, 2, args.example)
            for size in sorted(args.sizes):
                database = Path(tmp) / f"history_{size}.sqlite3"
                shutil.copyfile(template, database)
                grow(database, size // TEMPLATE_DEALS - 1, lost_reason)
                results.append(run_worker(database, args.repeat, None))
                database.unlink()
        except subprocess.CalledProcessError as failure:
            sys.stderr.write(failure.stderr or "")
            return 2
    report, ok = render(results, header, time.perf_counter() - started)
    print(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
