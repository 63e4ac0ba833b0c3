"""`python run_bot.py` itself, as the README runs it: a separate process, configured only by
its environment, talking HTTP to the fake Telegram."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.e2e.conftest import ADMIN_ID, TOKEN
from tests.fake_telegram import FakeTelegram

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


async def test_run_bot_answers_start_from_an_admin(tg: FakeTelegram, tmp_path: Path) -> None:
    environment = bot_environment(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=tg.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        ADMIN_IDS=str(ADMIN_ID),
        LOG_LEVEL="DEBUG",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT / "run_bot.py"),
        cwd=tmp_path,  # no .env there: only the environment configures it
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        admin = tg.user("Ольга", user_id=ADMIN_ID)
        await admin.send("/start")
        greeting = await admin.wait_message(contains="Вы — администратор", timeout=STARTUP_TIMEOUT)
        assert "/invite" in greeting.text
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
        output, _ = await asyncio.wait_for(process.communicate(), timeout=STARTUP_TIMEOUT)
    log = output.decode()
    assert process.returncode == 0, log
    assert "Polling stopped" in log or "stopped" in log
    assert "Traceback" not in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert (tmp_path / "bot.sqlite3").exists()


async def test_without_a_token_it_explains_how_to_get_one(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT / "run_bot.py"),
        cwd=tmp_path,
        env=bot_environment(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=STARTUP_TIMEOUT)
    explanation = stderr.decode()
    assert process.returncode == 2
    assert "@BotFather" in explanation and "/newbot" in explanation and "BOT_TOKEN" in explanation
    assert "Traceback" not in explanation
    assert stdout == b""


async def test_a_broken_sales_book_stops_the_start_naming_the_field(tmp_path: Path) -> None:
    book = tmp_path / "book.yaml"
    default = (PROJECT / "sales_books" / "default.yaml").read_text(encoding="utf-8")
    book.write_text(default.replace("first_response_minutes: 15", "first_response_minutes: -5"))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT / "run_bot.py"),
        cwd=tmp_path,
        env=bot_environment(tmp_path, BOT_TOKEN=TOKEN, SALES_BOOK=str(book)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=STARTUP_TIMEOUT)
    explanation = stderr.decode()
    assert process.returncode == 2
    assert "first_response_minutes" in explanation and "line " in explanation
    assert "Traceback" not in explanation and TOKEN not in explanation
