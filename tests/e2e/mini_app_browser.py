"""The Mini App in a real browser, the test's side: Debian's chromium driven by Playwright at a
phone's width, `window.Telegram.WebApp` stubbed as Telegram's app provides it (a really signed
initData, themeParams, HapticFeedback and BackButton that record their calls), Telegram's own
script refused so nothing leaves this machine, and one bot, web server and browser per test
module (`world`). The tests are in tests/e2e/test_web_app_browser.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Route, ViewportSize, async_playwright, expect
from sqlalchemy import select

from bot.app import Application
from bot.web import build_web_app, serving
from config.settings import Settings
from domain.clock import FixedClock
from domain.contact import Contact
from services.deals import create_deal
from storage.models import ReminderRow
from storage.unit_of_work import UnitOfWork
from tests.e2e.conftest import ADMIN_ID, MONDAY_10_MSK, TOKEN, running_bot
from tests.e2e.test_run_bot import closed_port
from tests.fake_telegram import FakeTelegram, FakeUser, running_fake_telegram
from tests.init_data import signed_init_data

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# What works on this machine's kind: no sandbox (root), no GPU, no traffic of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
PIPELINE = "implementation_mid"

# Telegram's own palettes (Android's day and night themes), as themeParams carries them.
LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
    "destructive_text_color": "#e53935",
}
DARK = {
    "bg_color": "#212d3b",
    "text_color": "#ffffff",
    "hint_color": "#7d8b99",
    "link_color": "#5eabe1",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#151e27",
    "destructive_text_color": "#ec3942",
}

STUB = """
(() => {
  const config = %s;
  const calls = [];
  const backHandlers = [];
  const events = {};
  const record = (name) => (...args) => { calls.push([name, ...args]); };
  window.Telegram = { WebApp: {
    initData: config.initData,
    initDataUnsafe: { user: config.user },
    themeParams: config.themeParams,
    colorScheme: config.colorScheme,
    platform: "android",
    version: "8.0",
    ready: record("ready"),
    expand: record("expand"),
    onEvent(name, handler) { (events[name] = events[name] || []).push(handler); },
    offEvent(name, handler) { events[name] = (events[name] || []).filter((h) => h !== handler); },
    showAlert(message, callback) { calls.push(["showAlert", message]); if (callback) callback(); },
    HapticFeedback: {
      impactOccurred: record("HapticFeedback.impactOccurred"),
      notificationOccurred: record("HapticFeedback.notificationOccurred"),
      selectionChanged: record("HapticFeedback.selectionChanged"),
    },
    BackButton: {
      isVisible: false,
      show() { this.isVisible = true; calls.push(["BackButton.show"]); },
      hide() { this.isVisible = false; calls.push(["BackButton.hide"]); },
      onClick(handler) { backHandlers.push(handler); },
      offClick(handler) { backHandlers.splice(backHandlers.indexOf(handler), 1); },
    },
  } };
  window.__telegram = { calls, pressBack() { backHandlers.forEach((handler) => handler()); } };
})();
"""


@dataclass
class World:
    tg: FakeTelegram
    app: Application
    clock: FixedClock
    url: str
    browser: Browser
    admin: FakeUser
    shots: Path | None
    """Where the screenshots go (SCREENSHOT_DIR), or None: not kept."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder = tmp_path_factory.mktemp("browser")
    clock = FixedClock(MONDAY_10_MSK)
    shots = os.environ.get("SCREENSHOT_DIR")
    async with running_fake_telegram(TOKEN) as tg:
        settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            telegram_api_url=tg.base_url,
            database_url=f"sqlite+aiosqlite:///{folder / 'bot.sqlite3'}",
            admin_ids=frozenset({ADMIN_ID}),
            throttle_burst=1000,
            reminder_tick_seconds=0,
            backup_dir=folder / "backups",
        )
        port = closed_port()
        async with (
            running_bot(tg, settings, clock) as app,
            serving(build_web_app(app, webhook=False), "127.0.0.1", port, 1.0),
            async_playwright() as playwright,
        ):
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                admin = tg.user("Ольга", user_id=ADMIN_ID, username="olga_admin")
                yield World(
                    tg,
                    app,
                    clock,
                    f"http://127.0.0.1:{port}/app/",
                    browser,
                    admin,
                    Path(shots) if shots else None,
                )
            finally:
                await browser.close()


@asynccontextmanager
async def board_of(
    world: World,
    person_id: int,
    first_name: str,
    *,
    theme: dict[str, str] = LIGHT,
    scheme: Literal["light", "dark"] = "light",
    language: str = "ru",
    scale: float = 1,
) -> AsyncIterator[Page]:
    """The board as this person opens it in Telegram, shown (its columns in place)."""
    init_data = signed_init_data(
        TOKEN, person_id, world.clock.now(), first_name=first_name, language_code=language
    )
    user = {"id": person_id, "first_name": first_name, "language_code": language}
    config = {"initData": init_data, "user": user, "themeParams": theme, "colorScheme": scheme}
    context = await world.browser.new_context(
        viewport=PHONE, device_scale_factor=scale, color_scheme=scheme, is_mobile=True
    )
    try:
        await context.route("https://telegram.org/**", _refuse)
        await context.add_init_script(STUB % json.dumps(config, ensure_ascii=False))
        page = await context.new_page()
        await page.goto(world.url)
        await expect(page.locator(".column").first).to_be_visible()
        yield page
    finally:
        await context.close()


async def _refuse(route: Route) -> None:
    await route.abort()


async def telegram_calls(page: Page) -> list[list[Any]]:
    calls: list[list[Any]] = await page.evaluate("window.__telegram.calls")
    return calls


async def shot(world: World, page: Page, name: str, *, full_page: bool = False) -> None:
    """A screenshot for the README, when asked for (`full_page`: all of it, scrolled down too);
    either way the page is phone-wide and only the board scrolls sideways (the page itself never
    does)."""
    assert await page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    if world.shots is not None:
        world.shots.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(world.shots / f"mini-app-{name}.png"), full_page=full_page)


async def open_deal(
    world: World,
    manager: int,
    client: str,
    *,
    company: str | None = None,
    entered: dt.datetime | None = None,
    pipeline: str = PIPELINE,
) -> int:
    """A deal opened as real ones are, `entered` its stage at that time (the past: overdue)."""
    app = world.app
    clock = FixedClock(entered or world.clock.now())
    digits = zlib.crc32(client.encode()) % 10_000_000  # the same phone on every run
    async with UnitOfWork(app.session_factory) as uow:
        contact = await uow.contacts.add(
            Contact(
                clock.now(),
                name=client,
                phone=f"+7 900 {digits // 10_000:03d}-{digits // 100 % 100:02d}-{digits % 100:02d}",
                company=company or f"{client} и партнёры",
            )
        )
        await uow.commit()
    deal = await create_deal(
        UnitOfWork(app.session_factory),
        clock,
        app.book,
        app.calendar,
        pipeline,
        contact_id=contact.id,
        manager_id=manager,
    )
    assert deal.id is not None
    return deal.id


def column(page: Page, stage_id: str) -> Any:
    return page.locator(f'.column[data-stage="{stage_id}"]')


async def personal_reminders(
    app: Application, deal_id: int
) -> list[tuple[int | None, dt.datetime, str | None, str]]:
    async with app.session_factory() as session:
        rows = await session.scalars(
            select(ReminderRow)
            .where(ReminderRow.kind == "personal", ReminderRow.deal_id == deal_id)
            .order_by(ReminderRow.id)
        )
        return [(row.staff_id, row.due_at, row.text, row.status) for row in rows]
