"""The deployment files and the README's production commands, run as the README says."""

from __future__ import annotations

import asyncio
import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from config.settings import Settings
from storage.database import create_engine, migrate

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"


def alembic(database_url: str, *arguments: str) -> str:
    """`alembic ...` from the project's folder, with DATABASE_URL as the README sets it."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), *arguments],
        cwd=PROJECT,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout + done.stderr


async def test_alembic_upgrade_head_once_then_instances_start_on_the_schema(
    database_url: str,
) -> None:
    await asyncio.to_thread(alembic, database_url, "upgrade", "head")
    assert "(head)" in await asyncio.to_thread(alembic, database_url, "current")
    # Three instances starting together find nothing left to do, and do not trip on each other.
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()


def test_the_env_example_is_a_valid_webhook_configuration() -> None:
    values = dotenv_values(PROJECT / ".env.example")
    assert "WEB_PORT" not in values  # each systemd instance sets its own
    settings = Settings(_env_file=PROJECT / ".env.example")
    assert settings.webhook_url == "https://bot.example.com"
    assert settings.webhook_secret is not None
    assert settings.redis_url and settings.database_url.startswith("postgresql+asyncpg://")


def test_the_systemd_template_runs_run_bot_on_the_instance_port() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "salesbot@.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("python run_bot.py")
    assert (PROJECT / "run_bot.py").exists()
    assert "WEB_PORT=%i" in service["Environment"]
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "always"


@pytest.mark.skipif(
    not os.environ.get("CI") and shutil.which("nginx") is None, reason="nginx is not installed"
)
def test_the_nginx_site_is_accepted_by_nginx(tmp_path: Path) -> None:
    """`nginx -t` on the site as shipped, its certificate paths pointed at a test one."""
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=bot.example.com", "-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (DEPLOY / "nginx" / "salesbot.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/bot.example.com/fullchain.pem", str(certificate))
    site = site.replace("/etc/letsencrypt/live/bot.example.com/privkey.pem", str(key))
    (tmp_path / "salesbot.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; include {tmp_path}/salesbot.conf; }}\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
