"""The bots as their users start them: a process configured by its environment, its console
read as it comes, its peak memory from /proc, and py-spy attached on request."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.burst.common import BenchError
from bench.machine import PROJECT_ROOT

STOP_TIMEOUT = 30.0
"""SIGTERM to exit: the bot's shutdown grace (10 s by default) and some."""


ECHO_BOT = PROJECT_ROOT / "bench" / "burst" / "echo_bot.py"


def bot_environment(workdir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without anything the bot reads as a setting, plus `settings`
    (a .env in the project root is not read: the bot runs in `workdir`)."""
    from config.settings import Settings

    ours = {name.upper() for name in Settings.model_fields}
    environment = {key: value for key, value in os.environ.items() if key.upper() not in ours}
    environment.update(PYTHONUNBUFFERED="1", BACKUP_DIR=str(workdir / "backups"), **settings)
    return environment


class Console:
    """Everything a bot process prints (stderr joined into stdout), read as it comes: a bot
    blocked writing to a full pipe would answer no one."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        self._stream = process.stdout
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self._stream.readline():
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    async def finish(self) -> list[str]:
        await asyncio.wait_for(self._reader, timeout=STOP_TIMEOUT)
        return self.lines


@dataclass
class ConsoleVerdict:
    lines: list[str]
    """Everything printed but aiogram's "Received SIGTERM signal": at LOG_LEVEL=WARNING each
    line is part of a warning, an error or a traceback."""
    tracebacks: int
    locked: int
    """Lines saying "database is locked"."""
    exceptions: Counter[str]
    """The last line of each traceback (the exception and its message), counted."""
    logged: Counter[str]
    """Each logged warning or error, without its time stamp, numbers as N, counted."""


STOPPING = "Received SIGTERM signal"
"""aiogram's warning when it is stopped: the benchmark's doing, not the bot's."""


LOGGED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\w+ .*)$")
"""A log line as bot/logging_setup.py formats it: the time, the level, the logger, the text."""


def judge_console(lines: list[str]) -> ConsoleVerdict:
    lines = [line for line in lines if not line.endswith(STOPPING)]
    exceptions: Counter[str] = Counter()
    logged: Counter[str] = Counter()
    in_traceback = False
    for line in lines:
        if found := LOGGED.match(line):
            # "update 2658 failed" and "update 3166 failed" are one kind of error.
            logged[re.sub(r"\d+", "N", found.group(1))[:160]] += 1
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            # The first unindented line after the frames: "module.Error: message".
            exceptions[line[:240]] += 1
            in_traceback = False
    return ConsoleVerdict(
        lines=lines,
        tracebacks=sum("Traceback (most recent call last)" in line for line in lines),
        locked=sum("database is locked" in line for line in lines),
        exceptions=exceptions,
        logged=logged,
    )


class BotProcess:
    """One bot process: `python run_bot.py`, or the echo bot's script."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.console = Console(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(cls, bot: str, workdir: Path, environment: dict[str, str]) -> BotProcess:
        script = PROJECT_ROOT / "run_bot.py" if bot == "lead" else ECHO_BOT
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            cwd=workdir,  # no .env there: only the environment configures it
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    def family(self) -> list[int]:
        """This process and the ones it started (the workers, with WORKERS)."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text("ascii")
        except OSError:
            children = ""
        return [self.pid, *(int(child) for child in children.split())]

    def peak_rss_kib(self) -> int | None:
        """VmHWM, the resident set's high-water mark, of the process and its workers together
        (they must still be running)."""
        found = [rss for pid in self.family() if (rss := _peak_rss_kib(pid)) is not None]
        return sum(found) if found else None

    async def stop(self) -> tuple[int | None, list[str]]:
        """SIGTERM, as a service manager stops it; its exit status and everything it printed."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=STOP_TIMEOUT)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode, await self.console.finish()


def _peak_rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else None


class Profiler:
    """py-spy attached to a running process for a while (`record --pid`), writing a flame graph
    (.svg), a speedscope profile (.json) or collapsed stacks (anything else)."""

    def __init__(self, process: asyncio.subprocess.Process, output: Path) -> None:
        self._process = process
        self.output = output

    @staticmethod
    def executable() -> str:
        beside = Path(sys.executable).parent / "py-spy"
        found = str(beside) if beside.exists() else shutil.which("py-spy")
        if found is None:
            raise BenchError("--profile needs py-spy: .venv/bin/pip install -e '.[dev]'")
        return found

    @classmethod
    async def attach(cls, pid: int, output: Path) -> Profiler:
        formats = {".svg": "flamegraph", ".json": "speedscope"}
        process = await asyncio.create_subprocess_exec(
            cls.executable(),
            "record",
            "--pid",
            str(pid),
            "--output",
            str(output),
            "--format",
            formats.get(output.suffix, "raw"),
            "--rate",
            "100",
            # Without pausing the bot for each sample: paused, a bot with a dozen aiosqlite
            # threads ran at a third of its speed, long enough for "database is locked".
            "--nonblocking",
            "--subprocesses",  # the workers too, with WORKERS
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        # py-spy says "Sampling process ..." once it is attached: time nothing before that.
        said = b""
        async with asyncio.timeout(10):
            while b"Sampling" not in (line := await process.stdout.readline()):
                said += line
                if not line:
                    raise BenchError(f"py-spy did not attach to process {pid}: {said.decode()}")
        return cls(process, output)

    async def detach(self) -> None:
        """Ctrl-C makes py-spy write what it sampled."""
        self._process.send_signal(signal.SIGINT)
        async with asyncio.timeout(STOP_TIMEOUT):
            await self._process.communicate()
