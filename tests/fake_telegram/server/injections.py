"""Faults a test injects: failing or slow answers, Telegram's flood limits, a blocked bot."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .records import Call
from .state import ServerState


@dataclass
class InjectedFault:
    """One planned fault: the next ``remaining`` calls of ``method`` fail, or answer late."""

    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    delay: float = 0.0
    """Answer (successfully) only after this many seconds: a slow or hanging Telegram."""
    chat_id: int | None = None
    """Only calls to this chat (None: any)."""


class FaultInjection(ServerState):
    """Test controls that make Telegram misbehave the ways a real one does."""

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sends to them fail with 403 (not a violation)."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any but getUpdates) with an error.

        For 429 the default description is Telegram's "Too Many Requests: retry after N" and
        ``parameters.retry_after`` is included, so aiogram raises ``TelegramRetryAfter``.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: injected error",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Injected error")
        self._injected.append(InjectedFault(method, status, description, retry_after, times))

    def delay_next(
        self, method: str, seconds: float, *, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Hold the next ``times`` calls of ``method`` (to ``chat_id`` only, if given) for
        ``seconds`` before answering (a client with a shorter timeout sees a timeout)."""
        self._injected.append(
            InjectedFault(method, 200, "", None, times, delay=seconds, chat_id=chat_id)
        )

    def enforce_flood_limits(
        self, per_second: int = 30, per_chat_per_second: int = 1, retry_after: int = 1
    ) -> None:
        """Answer sends beyond Telegram's limits with 429, as Telegram does: more than
        ``per_second`` messages in any one second overall, or more than ``per_chat_per_second``
        to one chat. Counted in ``flood_429s``."""
        self._flood = (per_second, per_chat_per_second, retry_after)

    def _check_flood(self, call: Call) -> None:
        if self._flood is None or not call.method.startswith(("send", "copy", "forward")):
            return
        per_second, per_chat, retry_after = self._flood
        now = asyncio.get_running_loop().time()
        while self._sent_times and self._sent_times[0][0] <= now - 1.0:
            self._sent_times.popleft()
        chat = call.params.get("chat_id")
        same_chat = sum(1 for _, sent_chat in self._sent_times if sent_chat == chat)
        if len(self._sent_times) >= per_second or same_chat >= per_chat:
            self.flood_429s += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                retry_after=retry_after,
                violation=False,
            )
        self._sent_times.append((now, chat))

    async def _check_injected(self, method: str, chat_id: Any) -> None:
        for injected in self._injected:
            if injected.remaining <= 0:
                continue
            if injected.chat_id is not None and str(injected.chat_id) != str(chat_id):
                continue
            if injected.method == method or (injected.method == "*" and method != "getUpdates"):
                injected.remaining -= 1
                if injected.delay:
                    await asyncio.sleep(injected.delay)
                    return
                raise ApiError(
                    injected.status,
                    injected.description,
                    retry_after=injected.retry_after,
                    violation=False,
                )
