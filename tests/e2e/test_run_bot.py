"""`python run_bot.py` itself, as the README runs it: a separate process, configured only by
its environment, talking HTTP to the fake Telegram."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_ID, TOKEN
from tests.fake_telegram import FakeTelegram, running_fake_telegram

PROJECT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0


def bot_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL", "ADMIN_IDS", "SALES_BOOK"}
    }
    # The daily backup runs at start: into the test's folder, not the project's data/.
    environment.update(PYTHONUNBUFFERED="1", BACKUP_DIR=str(tmp_path / "backups"), **extra)
    return environment


async def spawn_run_bot(
    tmp_path: Path, environment: dict[str, str], *, stderr_apart: bool = False
) -> asyncio.subprocess.Process:
    """`python run_bot.py` as its users start it, in `tmp_path` (no .env there: only
    `environment` configures it); its console on stdout, stderr with it unless `stderr_apart`."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT / "run_bot.py"),
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE if stderr_apart else asyncio.subprocess.STDOUT,
    )


async def stopped_at_start(process: asyncio.subprocess.Process) -> tuple[str, str]:
    """A bot that refused to go on, as its users see it: exit code 2, no traceback. Returns
    what it said on stderr, and everything it printed (stdout after it)."""
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=STARTUP_TIMEOUT)
    explanation = stderr.decode()
    printed = explanation + stdout.decode()
    assert process.returncode == 2, explanation
    assert "Traceback" not in printed
    return explanation, printed


async def test_run_bot_answers_start_from_an_admin(tg: FakeTelegram, tmp_path: Path) -> None:
    environment = bot_environment(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=tg.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        ADMIN_IDS=str(ADMIN_ID),
        LOG_LEVEL="DEBUG",
    )
    process = await spawn_run_bot(tmp_path, environment)
    # Read as it comes: a DEBUG log fills the pipe, and a bot blocked writing to it answers no one.
    console = ConsoleOutput(process)
    try:
        admin = tg.user("Ольга", user_id=ADMIN_ID)
        await admin.send("/start")
        greeting = await admin.wait_message(contains="Вы — администратор", timeout=STARTUP_TIMEOUT)
        assert "/invite" in greeting.text
        # Today's Bot API: link previews off through link_preview_options, nothing unlisted.
        greeting_call = tg.calls_to("sendMessage", chat_id=ADMIN_ID)[-1]
        assert greeting_call.params["link_preview_options"] == {"is_disabled": True}
        assert [c.command for c in await admin.commands()][:6] == [
            "start",
            "deals",
            "reminders",
            "digest",
            "ab",
            "scripts",
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=STARTUP_TIMEOUT)
    log = await console.finish()
    assert process.returncode == 0, log
    assert "Polling stopped" in log or "stopped" in log
    assert "Traceback" not in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert (tmp_path / "bot.sqlite3").exists()


async def test_without_a_token_it_explains_how_to_get_one(tmp_path: Path) -> None:
    process = await spawn_run_bot(tmp_path, bot_environment(tmp_path), stderr_apart=True)
    explanation, printed = await stopped_at_start(process)
    assert "@BotFather" in explanation and "/newbot" in explanation and "BOT_TOKEN" in explanation
    assert printed == explanation  # nothing on stdout


async def test_a_broken_sales_book_stops_the_start_naming_the_field(tmp_path: Path) -> None:
    book = tmp_path / "book.yaml"
    default = (PROJECT / "sales_books" / "default.yaml").read_text(encoding="utf-8")
    book.write_text(default.replace("first_response_minutes: 15", "first_response_minutes: -5"))
    process = await spawn_run_bot(
        tmp_path,
        bot_environment(tmp_path, BOT_TOKEN=TOKEN, SALES_BOOK=str(book)),
        stderr_apart=True,
    )
    explanation, _ = await stopped_at_start(process)
    assert "first_response_minutes" in explanation and "line " in explanation
    assert TOKEN not in explanation


class ConsoleOutput:
    """Everything a running bot process prints (stderr joined into stdout), read as it comes,
    so a test can wait for a line while the process goes on."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        self._stream = process.stdout
        self.text = ""
        self._grew = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self._stream.readline():
            self.text += line.decode()
            self._grew.set()

    async def wait_for(self, fragment: str) -> None:
        async with asyncio.timeout(STARTUP_TIMEOUT):
            while fragment not in self.text:
                self._grew.clear()
                await self._grew.wait()

    async def finish(self) -> str:
        await asyncio.wait_for(self._reader, timeout=STARTUP_TIMEOUT)
        return self.text


def closed_port() -> int:
    """A port nobody listens on (yet): the bot's Telegram before the network is up."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_bot(
    tmp_path: Path, api_url: str, token: str = TOKEN, **settings: str
) -> asyncio.subprocess.Process:
    """run_bot.py polling `api_url` with the tests' admin and a database in `tmp_path`."""
    return await spawn_run_bot(
        tmp_path,
        bot_environment(
            tmp_path,
            BOT_TOKEN=token,
            TELEGRAM_API_URL=api_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            ADMIN_IDS=str(ADMIN_ID),
            **settings,
        ),
    )


async def test_a_bot_started_before_telegram_is_reachable_waits_and_comes_up(
    tmp_path: Path,
) -> None:
    port = closed_port()
    api_url = f"http://127.0.0.1:{port}"
    process = await start_bot(tmp_path, api_url)
    output = ConsoleOutput(process)
    try:
        await output.wait_for(f"Telegram Bot API at {api_url} is unreachable")
        async with running_fake_telegram(TOKEN, port=port) as tg:
            admin = tg.user("Ольга", user_id=ADMIN_ID)
            await admin.send("/start")
            greeting = await admin.wait_message(
                contains="Вы — администратор", timeout=STARTUP_TIMEOUT
            )
            assert "/invite" in greeting.text
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=STARTUP_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
    log = await output.finish()
    assert process.returncode == 0, log
    assert "retrying in 1 s" in log
    assert "Traceback" not in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
async def test_stopping_while_telegram_is_unreachable_exits_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    api_url = f"http://127.0.0.1:{closed_port()}"
    process = await start_bot(tmp_path, api_url)
    output = ConsoleOutput(process)
    try:
        await output.wait_for("is unreachable")
        process.send_signal(stop_signal)
        await asyncio.wait_for(process.wait(), timeout=STARTUP_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
    log = await output.finish()
    assert process.returncode == 0, log
    assert log.rstrip().endswith("stopped"), log
    assert "Traceback" not in log


async def test_a_rejected_token_stops_the_start_naming_botfather(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    revoked = "123456789:AAH-revoked-token-never-printed-98765"
    process = await spawn_run_bot(
        tmp_path,
        bot_environment(
            tmp_path,
            BOT_TOKEN=revoked,  # the fake knows only TOKEN: 401 Unauthorized, as Telegram says
            TELEGRAM_API_URL=tg.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        ),
        stderr_apart=True,
    )
    explanation, printed = await stopped_at_start(process)
    rejection = [line for line in explanation.splitlines() if "@BotFather" in line]
    assert len(rejection) == 1 and "BOT_TOKEN" in rejection[0] and "Unauthorized" in rejection[0]
    assert "/token" in rejection[0] and "/revoke" in rejection[0]
    assert revoked not in printed and revoked.split(":")[1] not in printed


@pytest.mark.parametrize("workers", ["1", "2"], ids=["one process", "two workers"])
async def test_a_token_revoked_while_polling_stops_the_bot_naming_botfather(
    tg: FakeTelegram, tmp_path: Path, workers: str
) -> None:
    """A new token made in @BotFather revokes the running one: aiogram would retry getUpdates
    forever; the bot stops at the first refusal and says what to do, as at the start (with
    WORKERS, the poller stops its workers first)."""
    process = await spawn_run_bot(
        tmp_path,
        bot_environment(
            tmp_path,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=tg.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            ADMIN_IDS=str(ADMIN_ID),
            WORKERS=workers,
        ),
        stderr_apart=True,
    )
    admin = tg.user("Ольга", user_id=ADMIN_ID)
    await admin.send("/start")
    await admin.wait_message(contains="администратор", timeout=STARTUP_TIMEOUT)

    tg.revoke_token("123456789:AAH-the-new-token-made-in-botfather")
    explanation, printed = await stopped_at_start(process)
    rejection = [line for line in explanation.splitlines() if "@BotFather" in line]
    assert len(rejection) == 1 and "Unauthorized" in rejection[0], explanation
    assert TOKEN not in printed and TOKEN.split(":")[1] not in printed
    tg.token = TOKEN  # the fake's own checks at the end speak to the token it started with


async def test_a_database_that_does_not_answer_stops_the_start_in_one_line(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    # A port nobody listens on: PostgreSQL down, or DATABASE_URL pointing at the wrong place.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await spawn_run_bot(
        tmp_path,
        bot_environment(
            tmp_path,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=tg.base_url,
            DATABASE_URL=f"postgresql+asyncpg://sales:s3cret-pass@127.0.0.1:{port}/salesbot",
        ),
        stderr_apart=True,
    )
    explanation, printed = await stopped_at_start(process)
    [line] = [line for line in explanation.splitlines() if "DATABASE_URL" in line]
    assert f"127.0.0.1:{port}/salesbot" in line and "Не удалось открыть базу данных" in line
    assert "s3cret-pass" not in printed
