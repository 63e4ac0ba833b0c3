"""Telegram in-process: the session both bots talk to, without the network."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator
from itertools import count
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMyCommands,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    SetChatMenuButton,
    SetMyCommands,
)
from aiogram.methods.base import TelegramMethod, TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile

from bench.lead_path.common import BOT_USER, BenchError

TRUE_RESULTS = (
    AnswerCallbackQuery,
    SetMyCommands,
    DeleteMyCommands,
    DeleteWebhook,
    SetChatMenuButton,
)

"""Methods Telegram answers with plain `true`."""


class FakeSession(BaseSession):
    """Answers Bot API calls in-process, the way Telegram would.

    Every request is serialised exactly as `AiohttpSession.build_form_data` does (so the bot's
    own cost of talking to Telegram is measured), and every answer goes through
    `check_response` from a JSON string (so is the cost of reading Telegram's reply); only the
    network is left out. Sent messages get increasing `message_id`s; the last one per chat is
    kept so the driver can press a button on it."""

    def __init__(self) -> None:
        super().__init__()
        self._message_ids = count(1)
        self.last_sent: dict[int, dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self.sent_to_watched: dict[int, int] = {}

    def watch(self, chat_id: int) -> None:
        """Count the messages sent to this chat (for staff: one card per lead)."""
        self.sent_to_watched.setdefault(chat_id, 0)

    def forget(self, chat_id: int) -> None:
        self.last_sent.pop(chat_id, None)

    async def close(self) -> None:
        """Nothing to close."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (BaseSession's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the fake session serves no files")
        yield b""  # pragma: no cover

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (BaseSession's signature)
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        form: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                form[key] = prepared
        name = method.__api_method__
        self.calls[name] = self.calls.get(name, 0) + 1
        content = self.json_dumps({"ok": True, "result": self._result(method, form)})
        response = self.check_response(bot=bot, method=method, status_code=200, content=content)
        return cast(TelegramType, response.result)

    def _result(self, method: TelegramMethod[Any], form: dict[str, Any]) -> Any:
        if isinstance(method, SendMessage):
            chat_id = int(method.chat_id)
            message = self._message(chat_id, next(self._message_ids), text=method.text)
            if isinstance(method.reply_markup, InlineKeyboardMarkup):
                message["reply_markup"] = json.loads(form["reply_markup"])
            self.last_sent[chat_id] = message
            if chat_id in self.sent_to_watched:
                self.sent_to_watched[chat_id] += 1
            return message
        if isinstance(method, EditMessageReplyMarkup | EditMessageText):
            if method.chat_id is None or method.message_id is None:
                return True
            message = self._message(int(method.chat_id), method.message_id)
            message["edit_date"] = int(time.time())
            if isinstance(method, EditMessageText):
                message["text"] = method.text
            if isinstance(method.reply_markup, InlineKeyboardMarkup):
                message["reply_markup"] = json.loads(form["reply_markup"])
            return message
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, TRUE_RESULTS):
            return True
        raise BenchError(f"the fake session does not serve {method.__api_method__}")

    @staticmethod
    def _message(chat_id: int, message_id: int, text: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "x"},
            "from": BOT_USER,
        }
        if text is not None:
            message["text"] = text
        return message
