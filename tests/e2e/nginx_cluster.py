"""Several `run_bot.py` processes in webhook mode behind a real nginx (the site in
deploy/nginx, its ports and certificate swapped for the test's), on PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import re
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.e2e.conftest import ADMIN_ID, TOKEN
from tests.e2e.test_run_bot import (
    PROJECT,
    ConsoleOutput,
    bot_environment,
    closed_port,
    spawn_run_bot,
)
from tests.fake_telegram import FakeTelegram

SECRET = "s3cret-webhook_token"
PUBLIC_URL = "https://bot.example.test"
STARTUP = 90.0


@dataclass
class BotProcess:
    port: int
    process: asyncio.subprocess.Process
    console: ConsoleOutput


@dataclass
class Cluster:
    instances: list[BotProcess]
    balancer: str
    tls: ssl.SSLContext
    logs: list[str] = field(default_factory=list)


def self_signed(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=bot.example.test", "-keyout", str(key), "-out", str(certificate)),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:bot.example.test"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certificate, key


def nginx_config(folder: Path, ports: list[int], https_port: int, http_port: int) -> Path:
    certificate, key = self_signed(folder)
    site = (PROJECT / "deploy" / "nginx" / "salesbot.conf").read_text(encoding="utf-8")
    upstreams = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports
    )
    site = re.sub(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", upstreams + "\n", site, count=1)
    site = "\n".join(line for line in site.splitlines() if "[::]" not in line)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("/etc/letsencrypt/live/bot.example.com/fullchain.pem", str(certificate))
    site = site.replace("/etc/letsencrypt/live/bot.example.com/privkey.pem", str(key))
    (folder / "salesbot.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(
        f"  {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"daemon off;\nuser root;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 4096; }}\n"
        f"http {{\n  access_log off;\n{temp}\n  include {folder}/salesbot.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


async def start_bot(
    tmp_path: Path,
    tg: FakeTelegram,
    port: int,
    database_url: str,
    redis_url: str,
    prefix: str,
    **settings: str,
) -> BotProcess:
    environment = bot_environment(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=tg.base_url,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_PREFIX=prefix,
        ADMIN_IDS=str(ADMIN_ID),
        WEBHOOK_URL=PUBLIC_URL,
        WEBHOOK_SECRET=SECRET,
        WEB_PORT=str(port),
        THROTTLE_BURST="1000",
        LOG_LEVEL="WARNING",
        **settings,
    )
    process = await spawn_run_bot(tmp_path, environment)
    return BotProcess(port, process, ConsoleOutput(process))


async def healthy(url: str, tls: ssl.SSLContext | bool = True) -> None:
    async with asyncio.timeout(STARTUP), aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, ssl=tls) as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


@asynccontextmanager
async def balancer(tmp_path: Path, ports: list[int]) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """nginx with deploy/nginx's site in front of the instances on `ports` (which may start
    after it): its HTTPS address, and a TLS context that trusts its certificate."""
    https_port, http_port = closed_port(), closed_port()
    config = nginx_config(tmp_path, ports, https_port, http_port)
    tls = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    nginx = await asyncio.create_subprocess_exec(
        "nginx", "-p", str(tmp_path), "-c", str(config), stderr=asyncio.subprocess.PIPE
    )
    try:
        yield f"https://127.0.0.1:{https_port}", tls
    finally:
        await _stop(nginx, signal.SIGQUIT)


@asynccontextmanager
async def nginx_cluster(
    tg: FakeTelegram,
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    prefix: str,
    instances: int = 3,
    **settings: str,
) -> AsyncIterator[Cluster]:
    """`settings`: more of the bots' environment (REMINDER_TICK_SECONDS=...)."""
    ports = [closed_port() for _ in range(instances)]
    async with AsyncExitStack() as stack:
        url, tls = await stack.enter_async_context(balancer(tmp_path, ports))
        cluster = Cluster([], url, tls)
        for n, port in enumerate(ports):
            folder = tmp_path / f"instance{n}"
            folder.mkdir()
            bot = await start_bot(folder, tg, port, database_url, redis_url, prefix, **settings)
            stack.push_async_callback(_finish, bot, cluster.logs)
            cluster.instances.append(bot)
            if n == 0:  # the first migrates; the others find the schema done
                await healthy(f"http://127.0.0.1:{port}/healthz")
        for bot in cluster.instances:
            await healthy(f"http://127.0.0.1:{bot.port}/healthz")
        tg.webhook_via = cluster.balancer
        tg.webhook_ssl = tls
        yield cluster


def busiest_second(times: list[float]) -> int:
    """The most of `times` (seconds) within any one second: against Telegram's ~30 messages a
    second."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def _stop(process: asyncio.subprocess.Process, stop_signal: signal.Signals) -> None:
    if process.returncode is None:
        process.send_signal(stop_signal)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _finish(bot: BotProcess, logs: list[str]) -> None:
    await _stop(bot.process, signal.SIGTERM)
    logs.append(await bot.console.finish())
