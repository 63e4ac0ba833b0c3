"""Webhook delivery, the way Telegram does it.

After ``setWebhook`` every queued update is POSTed as JSON to the webhook URL with the header
``X-Telegram-Bot-Api-Secret-Token`` (when a ``secret_token`` was set). One update at a time
per chat, in order; chats in parallel up to ``max_connections``. An update is forgotten only
on a 2xx answer; a non-2xx answer, a refused connection or no answer within
``webhook_timeout`` seconds means it is delivered again after ``webhook_retry_delay``.

Telegram only calls HTTPS URLs; the TLS-terminating balancer in front of the bot is stood in
for by ``webhook_via``: ``http://host:port`` that the URL's path is POSTed to instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .errors import bad_request
from .records import JSON, Call
from .state import DEFAULT_UPDATE_TYPES, ServerState

SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Delivery:
    """One POST of an update to the webhook and what came of it."""

    update: JSON
    chat_id: int | None
    status: int | None
    """The HTTP status, or None when the connection failed or timed out."""
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookDelivery(ServerState):
    """setWebhook / deleteWebhook / getWebhookInfo and the delivery loop behind them."""

    webhook_secret = ""
    webhook_max_connections = 40
    _webhook_task: asyncio.Task[None] | None = None
    _webhook_http: aiohttp.ClientSession | None = None
    _last_webhook_error: tuple[int, str] | None = None

    def _set_webhook(self, call: Call) -> bool:
        params = call.params
        url = params["url"]
        if url and not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        self.webhook_url = url
        self.webhook_secret = secret or ""
        self.webhook_max_connections = max_connections
        if params.get("drop_pending_updates"):
            self.pending_updates.clear()
        self._start_delivering()
        self._notify()
        return True

    def _delete_webhook(self, call: Call) -> bool:
        self.webhook_url = ""
        if call.params.get("drop_pending_updates"):
            self.pending_updates.clear()
        self._notify()
        return True

    def _get_webhook_info(self, call: Call) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            info["allowed_updates"] = sorted(self.allowed_updates)
        if self._last_webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    # ------------------------------------------------------------------ delivering

    def webhook_target(self) -> str:
        """Where the updates are POSTed: the webhook URL, or its path on ``webhook_via``."""
        if not self.webhook_via:
            return self.webhook_url
        parts = urlsplit(self.webhook_url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.webhook_via.rstrip('/')}{parts.path or '/'}{query}"

    @property
    def webhook_in_flight(self) -> int:
        """Updates POSTed and not yet answered (or waiting to be retried)."""
        return len(self._in_flight)

    def webhook_busy(self) -> bool:
        """Updates are waiting for the webhook or being POSTed to it."""
        return bool(self.webhook_url) and bool(self.pending_updates or self._in_flight)

    async def post_webhook(
        self, update: JSON, *, secret: str | None = None, via: str | None = None
    ) -> int:
        """POST one update to the webhook now, outside the delivery loop (a duplicate racing
        the original, or a forged request with a wrong ``secret``), through the balancer or
        straight to the instance at ``via``; the HTTP status."""
        headers = {SECRET_HEADER: self.webhook_secret if secret is None else secret}
        target = self.webhook_target()
        if via is not None:
            target = via.rstrip("/") + urlsplit(self.webhook_url).path
        session = self._http()
        tls: ssl.SSLContext | bool = True if self.webhook_ssl is None else self.webhook_ssl
        async with session.post(target, json=update, headers=headers, ssl=tls) as answer:
            await answer.read()
            return answer.status

    def _http(self) -> aiohttp.ClientSession:
        if self._webhook_http is None or self._webhook_http.closed:
            self._webhook_http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout)
            )
        return self._webhook_http

    def _start_delivering(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_forever())

    async def _stop_delivering(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._webhook_http is not None:
            await self._webhook_http.close()

    async def _deliver_forever(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while self.webhook_url and not self._stopping:
                for update in self._ready_updates():
                    self._in_flight[update["update_id"]] = _chat_of(update)
                    task = asyncio.create_task(self._deliver(update))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await self.wait_change(0.5)
        finally:
            for task in tasks:
                task.cancel()
            self._in_flight.clear()

    def _ready_updates(self) -> list[JSON]:
        """The oldest pending update of each chat that has none on its way, up to the limit."""
        busy_chats = set(self._in_flight.values())
        room = self.webhook_max_connections - len(self._in_flight)
        ready: list[JSON] = []
        for update in self.pending_updates:
            if room <= len(ready):
                break
            chat = _chat_of(update)
            if update["update_id"] in self._in_flight or chat in busy_chats:
                busy_chats.add(chat)
                continue
            busy_chats.add(chat)
            ready.append(update)
        return ready

    async def _deliver(self, update: JSON) -> None:
        update_id = update["update_id"]
        delivery = Delivery(update, _chat_of(update), None, started=_now())
        try:
            delivery.status = await self.post_webhook(update)
        except (aiohttp.ClientError, TimeoutError) as error:
            delivery.error = f"{type(error).__name__}: {error}"
        delivery.finished = _now()
        self.deliveries.append(delivery)
        if delivery.ok:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] != update_id]
            self._delivered_upto = max(self._delivered_upto, update_id)
        else:
            what = f"Wrong response from the webhook: {delivery.status or delivery.error}"
            self._last_webhook_error = (int(time.time()), what)
            self._touch()
            await asyncio.sleep(self.webhook_retry_delay)
        self._in_flight.pop(update_id, None)
        self._touch()


def _chat_of(update: JSON) -> int | None:
    body: Any = next((value for key, value in update.items() if key != "update_id"), None)
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("chat"), dict):
        return int(body["chat"]["id"])
    message = body.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        return int(message["chat"]["id"])
    sender = body.get("from")
    return int(sender["id"]) if isinstance(sender, dict) else None


def _now() -> float:
    return asyncio.get_running_loop().time()
