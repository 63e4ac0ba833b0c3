"""One worker: one bot in this process, warmed up, timed, measured for memory, checked."""

from __future__ import annotations

import cProfile
import gc
import logging
import math
import random
import resource
import statistics
import sys
import tempfile
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.lead_path.bots import BenchBot, EchoBot, LeadPathBot
from bench.lead_path.common import STEPS, BenchError
from bench.lead_path.driver import Driver, drive
from bench.lead_path.people import make_leads


@dataclass
class WorkerResult:
    bot: str
    updates: int
    seconds: float
    updates_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    steps: dict[str, list[float]]
    """step -> [p50 ms, p99 ms, mean ms]"""
    queries: dict[str, list[float]] | None
    """step -> [SQL statements, connection checkouts] per update, counted in the warm-up"""
    tracemalloc_peak_bytes: int | None
    max_rss_kb: int
    deals: int | None
    errors: int


class CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        sys.stderr.write(f"{record.levelname} {record.name}: {record.getMessage()}\n")


async def run_worker(
    name: str, leads: int, warmup: int, seed: int, memory: bool, profile: Path | None
) -> WorkerResult:
    # Both bots run with the per-update INFO log of aiogram off (the bot's LOG_LEVEL=WARNING);
    # anything at WARNING or above is counted and fails the run.
    problems = CountingHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[problems], force=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="salesbot-bench-") as tmp:
        bench_bot: BenchBot
        if name == "lead":
            bench_bot = await LeadPathBot.create(Path(tmp) / "bench.sqlite3")
            products = [product.name for product in bench_bot.app.book.products]
        else:
            bench_bot = EchoBot()
            products = ["Внедрение CRM под ключ", "Подписка на облачную CRM"]
        try:
            driver = Driver(bench_bot.dispatcher, bench_bot.bot, bench_bot.session)
            with bench_bot.counting_queries(driver) as queries:
                await drive(driver, make_leads(rng, 0, warmup, products), bench_bot.run_lead)
            timed = make_leads(rng, warmup, leads, products)
            gc.collect()
            with _profiling(profile):
                timings = await drive(driver, timed, bench_bot.run_lead)
            max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            walked = warmup + leads
            peak = None
            if memory:
                more = make_leads(rng, walked, leads, products)
                gc.collect()
                tracemalloc.start()
                await drive(driver, more, bench_bot.run_lead)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                walked += leads
            deals = await bench_bot.verify(walked)
        finally:
            await bench_bot.close()
    if problems.count:
        raise BenchError(f"{problems.count} warnings or errors were logged")
    latencies = timings.all
    return WorkerResult(
        bot=name,
        updates=len(latencies),
        seconds=timings.wall_ns / 1e9,
        updates_per_s=len(latencies) / (timings.wall_ns / 1e9),
        p50_ms=percentile(latencies, 50) / 1e6,
        p99_ms=percentile(latencies, 99) / 1e6,
        max_ms=max(latencies) / 1e6,
        steps={
            step: [
                percentile(values, 50) / 1e6,
                percentile(values, 99) / 1e6,
                statistics.fmean(values) / 1e6,
            ]
            for step, values in timings.per_step.items()
        },
        queries={
            step: [
                queries.statements.get(step, 0) / warmup,
                queries.checkouts.get(step, 0) / warmup,
            ]
            for step in STEPS
        }
        if queries is not None and warmup
        else None,
        tracemalloc_peak_bytes=peak,
        max_rss_kb=max_rss_kb,
        deals=deals,
        errors=problems.count,
    )


class _profiling:
    """cProfile around the timed pass when asked (`--profile FILE`, a pstats file)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._profiler = cProfile.Profile() if path else None

    def __enter__(self) -> None:
        if self._profiler:
            self._profiler.enable()

    def __exit__(self, *_: object) -> None:
        if self._profiler and self._path:
            self._profiler.disable()
            self._profiler.dump_stats(self._path)


def percentile(values: Sequence[int], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])
