"""The judge: the project's fake Bot API (tests/fake_telegram) with a hook that tells the people
waiting in the benchmark the moment the bot's answer for them arrives.

The fake checks every call against the Bot API spec and keeps the chats, as in the end-to-end
tests. What is added: `Judge.listen(chat_id, callback)`, called with each successful call that
concerns the chat (an `answerCallbackQuery` concerns the chat of the query it answers). Waiting
this way costs one dict lookup per call, where the harness's `wait_for` re-evaluates every
waiting person's probe on every change (quadratic with a thousand people waiting at once).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from tests.fake_telegram import Call, FakeTelegram

TOKEN = "123456789:AAburst-bench-token-not-a-real-one-0"


Listener = Callable[[Call, Any], None]


class Judge(FakeTelegram):
    def __init__(self) -> None:
        # self_check validates the fake's own answers against the spec (a test of the fake, not
        # of the bot): off, so the judge spends its time on what the bot sends. The bot's calls
        # are still checked against the spec.
        super().__init__(TOKEN, self_check=False, default_timeout=10.0)
        self._listeners: dict[int, Listener] = {}

    def listen(self, chat_id: int, listener: Listener) -> None:
        self._listeners[chat_id] = listener

    def client_errors(self) -> list[str]:
        """Every call the fake answered 4xx (a client that went away while long polling, 499,
        is the bot stopping, not an error)."""
        return [
            f"{call.method} {call.status}: {call.error}"
            for call in self.calls
            if 400 <= call.status < 499
        ]

    async def _dispatch(self, call: Call) -> Any:
        result = await super()._dispatch(call)
        chat_id = call.chat_id
        if call.method == "answerCallbackQuery":
            query = self.callback_queries.get(call.params.get("callback_query_id", ""))
            chat_id = query.user_id if query else None
        if chat_id is not None and (listener := self._listeners.get(chat_id)):
            listener(call, result)
        return result


class CpuMeter:
    """CPU seconds (user + system) of this process and of the bot's processes, over a window."""

    def __init__(self, pids: list[int]) -> None:
        self._pids = pids
        self._started: tuple[float, float, float] | None = None
        self.judge_share = 0.0
        """Of one core, over the window (1.0: a core busy all the time)."""
        self.bot_share = 0.0
        """All the bot's processes together (2.0: two cores busy all the time)."""

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time(), self._bot_cpu())

    def stop(self) -> None:
        if self._started is None:
            return
        wall, judge, bot = self._started
        elapsed = time.perf_counter() - wall
        if elapsed > 0:
            self.judge_share = (time.process_time() - judge) / elapsed
            self.bot_share = (self._bot_cpu() - bot) / elapsed

    def _bot_cpu(self) -> float:
        return sum(process_cpu(pid) for pid in self._pids)


def process_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds, from /proc (0 where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime field 14 and stime field 15 (man proc).
    ticks = int(fields[11]) + int(fields[12])
    return ticks / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def loop_time() -> float:
    return asyncio.get_running_loop().time()
