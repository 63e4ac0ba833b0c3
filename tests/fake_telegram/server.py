"""A fake Telegram Bot API server for end-to-end tests of an aiogram bot.

The bot talks to it over real HTTP (``AiohttpSession(api=TelegramAPIServer.from_base(url))``).
Every call is validated against the bundled Bot API spec and Telegram's limits; anything a
real Telegram would refuse is answered with the same kind of error *and* recorded in
:attr:`FakeTelegramServer.violations`, so a test suite can fail on the first misbehaving call.

Only private chats with simulated users are modelled (no groups, channels, inline mode,
payments or webhooks deliveries).  Message ids are per chat and shared by the user's and the
bot's messages, as in a real private chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .formatting import EntityParseError, parse_text, trim_text, utf16_len
from .spec import ApiSpec, DecodedCall, SpecError, UploadedFile, load_spec

logger = logging.getLogger(__name__)

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456789:TEST-fake-telegram-token"
DEFAULT_BOT_USERNAME = "sales_test_bot"

MESSAGE_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200

#: Update types Telegram delivers when ``allowed_updates`` is empty or was never given.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "guest_message",
        "managed_bot",
    }
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

#: Inline keyboard button fields that define what the button does (exactly one is required).
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

#: method name -> (file parameter, message kind); these methods share one implementation.
MEDIA_METHODS: Mapping[str, tuple[str, str]] = {
    "sendPhoto": ("photo", "photo"),
    "sendDocument": ("document", "document"),
    "sendVideo": ("video", "video"),
    "sendAudio": ("audio", "audio"),
    "sendVoice": ("voice", "voice"),
    "sendAnimation": ("animation", "animation"),
    "sendSticker": ("sticker", "sticker"),
}
CAPTION_KINDS = frozenset({"photo", "document", "video", "audio", "voice", "animation"})

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_URL_RE = re.compile(r"^(?:https?://[^\s/$.?#][^\s]*|tg://\S+)$", re.IGNORECASE)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.violation = status in (400, 404, 409) if violation is None else violation


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Call:
    """One request the bot made, with its decoded parameters and the answer it got."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    result: Any = None
    error: str | None = None
    seq: int = 0
    at: float = 0.0
    """When it arrived (the event loop's clock)."""

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return None


@dataclass
class UserRecord:
    """A simulated Telegram user (and their private chat with the bot)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone: str | None = None
    is_premium: bool = False
    #: False until the user writes to the bot: sending to them fails with 403 like Telegram.
    started: bool = True

    def to_api(self, *, nested: bool = False) -> JSON:
        """The Message object; ``nested`` for reply_to_message (no further nesting)."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    def chat_api(self) -> JSON:
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    file_path: str | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 1024


@dataclass
class StoredMessage:
    """A message in a private chat, in its current state."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender: JSON
    chat: JSON
    date: int
    kind: str
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    raw_text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    content: JSON = field(default_factory=dict)
    file_id: str | None = None
    forward_origin: JSON | None = None
    reply_to: JSON | None = None
    edit_date: int | None = None
    deleted: bool = False
    created_seq: int = 0
    changed_seq: int = 0

    @property
    def inline_markup(self) -> JSON | None:
        markup = self.reply_markup
        if markup and markup.get("inline_keyboard"):
            return markup
        return None

    def to_api(self, *, nested: bool = False) -> JSON:
        """The Message object; ``nested`` for reply_to_message (no further nesting)."""
        data: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.forward_origin is not None:
            data["forward_origin"] = self.forward_origin
        if self.reply_to is not None and not nested:
            data["reply_to_message"] = self.reply_to
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.kind == "text":
            data["text"] = self.text or ""
            if self.entities:
                data["entities"] = self.entities
        else:
            data.update(self.content)
            if self.text is not None and self.kind in CAPTION_KINDS:
                data["caption"] = self.text
                if self.entities:
                    data["caption_entities"] = self.entities
        if self.inline_markup is not None:
            data["reply_markup"] = self.inline_markup
        return data


@dataclass
class ChatState:
    chat_id: int
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    history: list[StoredMessage] = field(default_factory=list)
    next_message_id: int = 1
    #: The reply keyboard the user currently sees (set by ReplyKeyboardMarkup, cleared by
    #: ReplyKeyboardRemove).
    reply_keyboard: JSON | None = None
    actions: list[str] = field(default_factory=list)


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    message_id: int | None
    data: str | None
    update_id: int | None = None
    answered: bool = False
    answer: JSON | None = None


@dataclass
class _Injected:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    delay: float = 0.0
    """Answer (successfully) only after this many seconds: a slow or hanging Telegram."""
    chat_id: int | None = None
    """Only calls to this chat (None: any)."""


class FakeTelegramServer:
    """The Bot API over HTTP plus the state a test inspects.

    Public state: :attr:`calls`, :attr:`violations`, :attr:`users`, :attr:`chats`,
    :attr:`commands`, :attr:`callback_queries`, :attr:`files`.

    getUpdates: ``offset`` > 0 confirms (forgets) every update with a smaller id, exactly like
    Telegram; a negative offset is simplified to "keep only the last -offset pending updates".
    ``timeout`` long-polls (returns as soon as an update is queued).  A second concurrent
    getUpdates makes the first one fail with 409 Conflict (a violation: two pollers), and an
    update whose type is not in the last ``allowed_updates`` is dropped when it is queued.
    Must run in the same event loop as the test (the bot may run anywhere, it only needs HTTP).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = "Sales Test Bot",
        spec: ApiSpec | None = None,
        strict_ampersand: bool = True,
        self_check: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        bot_id, _, _ = token.partition(":")
        if not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.host = host
        self.port = port
        self.spec = spec or load_spec()
        self.strict_ampersand = strict_ampersand
        self.self_check = self_check
        self.bot_user: JSON = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        #: Every call that broke the spec or Telegram's rules (human-readable lines).
        self.violations: list[str] = []
        #: Bugs of the fake itself (its own answers not matching the spec); should stay empty.
        self.internal_errors: list[str] = []
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatState] = {}
        #: (scope key, language code or "") -> list of BotCommand dicts.
        self.commands: dict[tuple[tuple[Any, ...], str], list[JSON]] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.blocked: set[int] = set()
        self._flood: tuple[int, int, int] | None = None
        self._sent_times: deque[tuple[float, Any]] = deque()
        self.flood_429s = 0
        self.webhook_url = ""
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.bot_settings: dict[tuple[str, Any], Any] = {}
        self.pending_updates: list[JSON] = []
        self.dropped_updates: list[JSON] = []

        self._next_update_id = 1
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._seq = 0
        self._changed = asyncio.Event()
        self._injected: list[_Injected] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._stopping = False
        self._poll_generation = 0
        self._poll_count = 0
        self._delivered_upto = 0
        self._delivery_poll = 0
        self._inflight = 0
        self._last_activity = 0.0

        self._impl: dict[str, Callable[[Call], Any]] = {
            "getMe": self._get_me,
            "logOut": lambda call: True,
            "close": lambda call: True,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._setting_setter("description", 512),
            "getMyDescription": self._setting_getter("description"),
            "setMyShortDescription": self._setting_setter("short_description", 120),
            "getMyShortDescription": self._setting_getter("short_description"),
            "setMyName": self._setting_setter("name", 64),
            "getMyName": self._setting_getter("name"),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendContact": self._send_contact,
            "sendLocation": self._send_location,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "getFile": self._get_file,
            "sendMediaGroup": self._send_media_group,
        }
        for method in MEDIA_METHODS:
            self._impl[method] = self._send_media

    # ------------------------------------------------------------------ lifecycle

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the fake Telegram server is not started")
        return self._base_url

    async def start(self) -> str:
        """Listen on ``port`` of ``host`` (a random free one for 0); return the base URL for
        aiogram."""
        if self._runner is not None:
            return self.base_url
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # handler_cancellation: a long poll whose client went away (e.g. dp.stop_polling())
        # must not linger and answer "409 Conflict" to the next poller.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        port = int(runner.addresses[0][1])
        self._runner = runner
        self._stopping = False
        self._base_url = f"http://{self.host}:{port}"
        return self._base_url

    async def stop(self) -> None:
        self._stopping = True
        self._notify()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --------------------------------------------------------------- change tracking

    @property
    def seq(self) -> int:
        """A counter that increases on every state change (messages, edits, calls...)."""
        return self._seq

    def _notify(self) -> None:
        self._seq += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_change(self, max_wait: float) -> None:
        """Return on the next state change or after ``max_wait`` seconds."""
        event = self._changed
        if max_wait <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max_wait):
                await event.wait()

    def is_settled(self, quiet: float) -> bool:
        """All updates were handed to the bot, it polled again and made no call for ``quiet``s."""
        loop = asyncio.get_running_loop()
        undelivered = any(u["update_id"] > self._delivered_upto for u in self.pending_updates)
        if undelivered or self._inflight:
            return False
        if self._delivered_upto and self._poll_count <= self._delivery_poll:
            return False
        return loop.time() - self._last_activity >= quiet

    def idle_for(self) -> float:
        return asyncio.get_running_loop().time() - self._last_activity

    # -------------------------------------------------------------- test controls

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
        self._injected.append(_Injected(method, status, description, retry_after, times))

    def delay_next(
        self, method: str, seconds: float, *, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Hold the next ``times`` calls of ``method`` (to ``chat_id`` only, if given) for
        ``seconds`` before answering (a client with a shorter timeout sees a timeout)."""
        self._injected.append(
            _Injected(method, 200, "", None, times, delay=seconds, chat_id=chat_id)
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

    def take_violations(self) -> list[str]:
        """Return and clear the recorded violations (for tests that provoke them on purpose)."""
        taken, self.violations[:] = list(self.violations), []
        return taken

    def assert_no_violations(self) -> None:
        problems = [*self.violations, *(f"[fake bug] {e}" for e in self.internal_errors)]
        if problems:
            raise AssertionError(
                "The bot made calls that real Telegram would reject:\n  " + "\n  ".join(problems)
            )

    def calls_to(self, method: str, **params: Any) -> list[Call]:
        """Recorded calls of ``method`` whose params include all given key/values."""
        return [
            call
            for call in self.calls
            if call.method == method and all(call.params.get(k) == v for k, v in params.items())
        ]

    def register_file(
        self,
        kind: str,
        *,
        data: bytes | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        """Make a file known to the server (so the bot may send it by file_id)."""
        number = next(self._file_counter)
        digest = hashlib.sha1(f"{kind}:{number}:{file_id}".encode()).hexdigest()
        stored = StoredFile(
            file_id=file_id or f"{kind.upper()}-{number}-{digest[:16]}",
            file_unique_id=f"U{digest[:12]}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            file_path=f"{kind}s/file_{number}",
        )
        self.files[stored.file_id] = stored
        return stored

    # --------------------------------------------------------------- users & updates

    def add_user(self, user: UserRecord) -> UserRecord:
        if user.id in self.users:
            raise ValueError(f"user id {user.id} already exists")
        self.users[user.id] = user
        self.chats.setdefault(user.id, ChatState(user.id))
        return user

    def chat(self, chat_id: int) -> ChatState:
        return self.chats.setdefault(chat_id, ChatState(chat_id))

    def enqueue_update(self, payload: JSON) -> int | None:
        """Queue an update (``update_id`` is assigned); None if ``allowed_updates`` drops it."""
        update_type = next(iter(payload))
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        if update_type not in self.allowed_updates:
            self.dropped_updates.append(update)
            self._notify()
            return None
        self._self_check(update, ("Update",), "update")
        self.pending_updates.append(update)
        self._notify()
        return int(update["update_id"])

    def user_message(self, user_id: int, kind: str, **fields: Any) -> StoredMessage:
        """Store a message from the user in their chat and queue a ``message`` update.

        ``fields`` are the Message content fields (``text``/``entities``, ``contact``,
        ``sticker``, ``photo``/``caption``...); ``reply_to_message_id`` is resolved.
        """
        user = self.users[user_id]
        user.started = True
        self.blocked.discard(user_id)
        chat = self.chat(user_id)
        reply_to_id = fields.pop("reply_to_message_id", None)
        text = fields.pop("text", None)
        if text is None:
            text = fields.pop("caption", None)
        entities = fields.pop("entities", None) or fields.pop("caption_entities", None) or []
        message = self._new_message(
            chat,
            from_bot=False,
            sender=user.to_api(),
            kind=kind,
            text=text,
            entities=entities,
            content=fields,
        )
        if reply_to_id is not None and reply_to_id in chat.messages:
            message.reply_to = chat.messages[reply_to_id].to_api(nested=True)
        self.enqueue_update({"message": message.to_api()})
        return message

    def callback_query(
        self, user_id: int, data: str | None, message_id: int | None
    ) -> CallbackQueryRecord:
        """Queue a ``callback_query`` update as if the user pressed a button."""
        user = self.users[user_id]
        chat = self.chat(user_id)
        number = next(self._callback_counter)
        query_id = f"{self.bot_id}{user_id}{number:06d}"
        payload: JSON = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": str(int(hashlib.sha1(str(user_id).encode()).hexdigest()[:15], 16)),
        }
        if message_id is not None:
            stored = chat.messages.get(message_id)
            if stored is not None:
                payload["message"] = stored.to_api()
            else:
                payload["message"] = {"chat": user.chat_api(), "message_id": message_id, "date": 0}
        if data is not None:
            payload["data"] = data
        record = CallbackQueryRecord(query_id, user_id, message_id, data)
        self.callback_queries[query_id] = record
        record.update_id = self.enqueue_update({"callback_query": payload})
        return record

    def commands_for(self, user_id: int, language_code: str | None = None) -> list[JSON]:
        """The command menu a user sees in the private chat, resolved like Telegram does.

        Order: chat scope + language, chat scope, all_private_chats + language,
        all_private_chats, default + language, default; the first list that is set wins.
        ``language_code`` defaults to the user's (only its first two letters matter).
        """
        if language_code is None and user_id in self.users:
            language_code = self.users[user_id].language_code
        lang = (language_code or "")[:2].lower()
        scopes: list[tuple[Any, ...]] = [
            ("chat", user_id),
            ("all_private_chats",),
            ("default",),
        ]
        for scope in scopes:
            for code in ([lang] if lang else []) + [""]:
                commands = self.commands.get((scope, code))
                if commands:
                    return [dict(command) for command in commands]
        return []

    def messages_in(self, chat_id: int, *, from_bot: bool | None = True) -> list[StoredMessage]:
        """Current (not deleted) messages of a chat in id order."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [
            message
            for _, message in sorted(chat.messages.items())
            if from_bot is None or message.from_bot == from_bot
        ]

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data or b"\0" * 16,
                    content_type=stored.mime_type or "application/octet-stream",
                )
        return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method_name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        spec = self.spec.find_method(method_name)
        is_poll = spec is not None and spec.name == "getUpdates"
        if not is_poll:
            self._inflight += 1
            self._touch()
        try:
            call = Call(method=spec.name if spec else method_name, params={})
            call.seq = len(self.calls) + 1
            call.at = asyncio.get_running_loop().time()
            recorded = False
            try:
                raw, attachments, typed = await self._read_params(request)
                call.params = {k: v for k, v in raw.items() if not isinstance(v, UploadedFile)}
                if spec is None:
                    raise ApiError(404, "Not Found")
                decoded = self._decode(spec.name, raw, attachments, typed)
                call.params, call.files = decoded.params, decoded.files
                self.calls.append(call)
                recorded = True
                self._notify()
                await self._check_injected(spec.name, call.params.get("chat_id"))
                self._check_flood(call)
                try:
                    result = await self._dispatch(call)
                except asyncio.CancelledError:
                    call.status, call.error = 499, "client disconnected"
                    raise
                if self.self_check:
                    self._self_check(result, spec.returns, f"result of {spec.name}")
            except ApiError as error:
                if not recorded:
                    self.calls.append(call)
                return self._error_response(call, error)
            except Exception as error:  # a bug of the fake: make it loud but keep JSON answers
                logger.exception("fake telegram crashed on %s", call.method)
                self.internal_errors.append(f"{call.method}: {type(error).__name__}: {error}")
                if not recorded:
                    self.calls.append(call)
                return self._error_response(
                    call,
                    ApiError(
                        500, f"Internal Server Error: fake Telegram bug: {error!r}", violation=False
                    ),
                )
            call.result = result
            self._notify()
            return self._json({"ok": True, "result": result}, 200)
        finally:
            if not is_poll:
                self._inflight -= 1
                self._touch()

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._notify()

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile], bool]:
        raw: dict[str, Any] = dict(request.query)
        attachments: dict[str, UploadedFile] = {}
        typed = False
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad_request("JSON request body must be an object")
                raw.update(body)
                typed = True
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        upload = UploadedFile(
                            name=key,
                            filename=value.filename,
                            content_type=value.content_type,
                            data=value.file.read(),
                        )
                        attachments[key] = upload
                        raw[key] = upload
                    else:
                        raw[key] = value if isinstance(value, str) else bytes(value).decode()
        return raw, attachments, typed

    def _decode(
        self,
        method: str,
        raw: Mapping[str, Any],
        attachments: Mapping[str, UploadedFile],
        typed: bool,
    ) -> DecodedCall:
        spec = self.spec.methods[method]
        try:
            return self.spec.decode_call(spec, raw, attachments, typed=typed)
        except SpecError as error:
            raise ApiError(error.status, error.description, violation=True) from None

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

    async def _dispatch(self, call: Call) -> Any:
        if call.method == "getUpdates":
            return await self._get_updates(call)
        impl = self._impl.get(call.method)
        if impl is None:
            raise ApiError(
                400,
                f"Bad Request: method {call.method} is not implemented by the fake Telegram "
                "server (tests/fake_telegram/server.py)",
                violation=True,
            )
        result = impl(call)
        if isinstance(result, Awaitable):
            return await result
        return result

    def _error_response(self, call: Call, error: ApiError) -> web.Response:
        call.status = error.status
        call.error = error.description
        if error.violation:
            where = f"(chat_id={call.params['chat_id']})" if "chat_id" in call.params else ""
            self.violations.append(f"{call.method}{where}: {error.description}")
            logger.warning("fake telegram violation: %s: %s", call.method, error.description)
        body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        self._notify()
        return self._json(body, error.status)

    @staticmethod
    def _json(body: JSON, status: int) -> web.Response:
        return web.Response(
            text=json.dumps(body, ensure_ascii=False),
            status=status,
            content_type="application/json",
        )

    def _self_check(self, value: Any, types: Iterable[str], what: str) -> None:
        if not self.self_check:
            return
        try:
            self.spec.check_value(value, tuple(types), what)
        except SpecError as error:
            self.internal_errors.append(f"{what}: {error.description}")

    # ------------------------------------------------------------------- helpers

    def _private_chat(self, chat_id: Any, *, sending: bool = True) -> tuple[ChatState, UserRecord]:
        if isinstance(chat_id, str):
            if chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            else:
                raise bad_request("chat not found")
        if chat_id == self.bot_id:
            raise ApiError(403, "Forbidden: bots can't send messages to bots", violation=True)
        user = self.users.get(chat_id)
        if user is None:
            raise bad_request("chat not found")
        if sending and chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user", violation=False)
        if sending and not user.started:
            raise ApiError(
                403, "Forbidden: bot can't initiate conversation with a user", violation=False
            )
        return self.chat(user.id), user

    def _new_message(
        self,
        chat: ChatState,
        *,
        from_bot: bool,
        sender: JSON,
        kind: str,
        text: str | None = None,
        entities: list[JSON] | None = None,
        raw_text: str | None = None,
        parse_mode: str | None = None,
        reply_markup: JSON | None = None,
        content: JSON | None = None,
        file_id: str | None = None,
    ) -> StoredMessage:
        user = self.users.get(chat.chat_id)
        chat_json = (
            user.chat_api() if user else {"id": chat.chat_id, "type": "private", "first_name": "?"}
        )
        self._seq += 1
        message = StoredMessage(
            chat_id=chat.chat_id,
            message_id=chat.next_message_id,
            from_bot=from_bot,
            sender=sender,
            chat=chat_json,
            date=int(time.time()),
            kind=kind,
            text=text,
            entities=entities or [],
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            content=content or {},
            file_id=file_id,
            created_seq=self._seq,
            changed_seq=self._seq,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        chat.history.append(message)
        if from_bot and reply_markup is not None:
            if "keyboard" in reply_markup:
                chat.reply_keyboard = reply_markup
            elif reply_markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self._notify()
        return message

    def _touch_message(self, message: StoredMessage) -> None:
        self._seq += 1
        message.changed_seq = self._seq
        message.edit_date = int(time.time())
        self._notify()

    def _format(
        self,
        raw: str | None,
        parse_mode: str | None,
        entities: list[JSON] | None,
        *,
        caption: bool,
    ) -> tuple[str, list[JSON]]:
        raw = raw or ""
        if parse_mode is not None and parse_mode.lower() not in ("html", "markdown", "markdownv2"):
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
        if entities:
            plain, parsed = trim_text(raw, [dict(entity) for entity in entities])
        else:
            try:
                plain, parsed = parse_text(raw, parse_mode, strict_ampersand=self.strict_ampersand)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        length = utf16_len(plain)
        if caption:
            if length > CAPTION_LIMIT:
                raise bad_request(
                    f"message caption is too long ({length} > {CAPTION_LIMIT} UTF-16 code units "
                    "after entities parsing)"
                )
        elif length == 0:
            raise bad_request("message text is empty")
        elif length > MESSAGE_TEXT_LIMIT:
            raise bad_request(
                f"message is too long ({length} > {MESSAGE_TEXT_LIMIT} UTF-16 code units "
                "after entities parsing)"
            )
        return plain, parsed

    def _check_markup(self, markup: JSON | None, *, inline_only: bool = False) -> JSON | None:
        if markup is None:
            return None
        if "inline_keyboard" in markup:
            total = 0
            for row in markup["inline_keyboard"]:
                for button in row:
                    total += 1
                    self._check_inline_button(button)
            if total > 100:
                raise bad_request("BUTTONS_TOO_MUCH (at most 100 inline buttons)")
            return markup if total else None
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in markup:
            for row in markup["keyboard"]:
                for button in row:
                    text = button if isinstance(button, str) else button.get("text", "")
                    if not text.strip():
                        raise bad_request("keyboard button text must be non-empty")
            placeholder = markup.get("input_field_placeholder")
            if placeholder is not None and not 1 <= len(placeholder) <= 64:
                raise bad_request("input_field_placeholder must be 1-64 characters")
        if "input_field_placeholder" in markup and "force_reply" in markup:
            placeholder = markup["input_field_placeholder"]
            if not 1 <= len(placeholder) <= 64:
                raise bad_request("input_field_placeholder must be 1-64 characters")
        return markup

    @staticmethod
    def _check_inline_button(button: JSON) -> None:
        text = button.get("text", "")
        if not text.strip():
            raise bad_request("can't parse inline keyboard button: button text must be non-empty")
        actions = [name for name in INLINE_BUTTON_ACTIONS if name in button]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                f"keyboard (button {text!r})"
            )
        if len(actions) > 1:
            raise bad_request(
                "can't parse inline keyboard button: exactly one of the optional fields must be "
                f"used, got {actions} (button {text!r})"
            )
        if "callback_data" in button:
            size = len(button["callback_data"].encode("utf-8"))
            if not 1 <= size <= CALLBACK_DATA_LIMIT:
                raise bad_request(
                    f"BUTTON_DATA_INVALID (callback_data must be 1-{CALLBACK_DATA_LIMIT} bytes, "
                    f"got {size} for button {text!r})"
                )
        if "url" in button and not _URL_RE.match(button["url"]):
            raise bad_request(f"BUTTON_URL_INVALID ({button['url']!r} for button {text!r})")

    def _check_reply_parameters(self, chat: ChatState, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None:
            return None
        message_id = reply["message_id"]
        allow = reply.get("allow_sending_without_reply", False)
        target = chat.messages.get(message_id)
        if target is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target.to_api(nested=True)

    def _find_message(self, call: Call, *, action: str) -> tuple[ChatState, StoredMessage]:
        params = call.params
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID (inline messages are not simulated)")
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat, _ = self._private_chat(params["chat_id"], sending=action != "delete")
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise bad_request(f"message to {action} not found")
        if action == "edit" and not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _file_param(self, value: Any, files: Mapping[str, UploadedFile], kind: str) -> StoredFile:
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value} was not uploaded")
            if not upload.data:
                raise bad_request("file must be non-empty")
            return self.register_file(
                kind, data=upload.data, filename=upload.filename, mime_type=upload.content_type
            )
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and re.match(r"^https?://", value):
            return self.register_file(kind, filename=value.rsplit("/", 1)[-1] or None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    @staticmethod
    def file_content(stored: StoredFile, kind: str) -> JSON:
        base: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if kind == "photo":
            small = {**base, "width": 90, "height": 67}
            small["file_size"] = max(stored.size // 10, 1)
            return {"photo": [small, {**base, "width": 800, "height": 600}]}
        if kind == "document":
            document = dict(base)
            if stored.filename:
                document["file_name"] = stored.filename
            if stored.mime_type:
                document["mime_type"] = stored.mime_type
            return {"document": document}
        if kind in ("video", "animation"):
            return {kind: {**base, "width": 640, "height": 480, "duration": 1}}
        if kind in ("audio", "voice"):
            return {kind: {**base, "duration": 1}}
        if kind == "sticker":
            return {
                "sticker": {
                    **base,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                }
            }
        return {kind: base}

    # ------------------------------------------------------------- implementations

    def _get_me(self, call: Call) -> JSON:
        return dict(self.bot_user)

    async def _get_updates(self, call: Call) -> list[JSON]:
        params = call.params
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self._poll_count += 1
        self._poll_generation += 1
        generation = self._poll_generation
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        offset = params.get("offset", 0)
        if offset > 0:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        elif offset < 0:
            # Simplified: keep only the last -offset updates, forget the earlier ones.
            self.pending_updates = self.pending_updates[offset:]
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.pending_updates and not self._stopping:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.wait_change(remaining)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
        batch = self.pending_updates[:limit]
        if batch:
            self._delivered_upto = max(self._delivered_upto, batch[-1]["update_id"])
            self._delivery_poll = self._poll_count
            self._touch()
        return batch

    def _set_webhook(self, call: Call) -> bool:
        url = call.params["url"]
        if url and not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if call.params.get("drop_pending_updates"):
            self.pending_updates.clear()
        return True

    def _delete_webhook(self, call: Call) -> bool:
        self.webhook_url = ""
        if call.params.get("drop_pending_updates"):
            self.pending_updates.clear()
        return True

    def _get_webhook_info(self, call: Call) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }

    def _scope_key(self, scope: JSON | None) -> tuple[Any, ...]:
        if not scope:
            return ("default",)
        kind = scope["type"]
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = scope["chat_id"]
            if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            if not isinstance(chat_id, int) or chat_id not in self.users:
                raise bad_request(f"chat not found (command scope chat_id={chat_id!r})")
            if kind == "chat_member":
                return (kind, chat_id, scope["user_id"])
            return (kind, chat_id)
        return (kind,)

    def _language(self, call: Call) -> str:
        code: str = call.params.get("language_code", "")
        if code and not _LANGUAGE_RE.match(code):
            raise bad_request(f"invalid language code specified: {code!r} (two-letter ISO 639-1)")
        return code

    def _set_my_commands(self, call: Call) -> bool:
        commands: list[JSON] = call.params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands (at most 100)")
        seen: set[str] = set()
        for command in commands:
            name = command["command"]
            if not _COMMAND_RE.match(name):
                raise bad_request(
                    f"BOT_COMMAND_INVALID ({name!r}: 1-32 characters, only lowercase English "
                    "letters, digits and underscores)"
                )
            if name in seen:
                raise bad_request(f"BOT_COMMAND_INVALID (duplicate command {name!r})")
            seen.add(name)
            if not 1 <= len(command["description"].strip()) <= 256:
                raise bad_request(
                    f"BOT_COMMAND_DESCRIPTION_INVALID ({name!r}: description must be 1-256 "
                    "characters)"
                )
        key = (self._scope_key(call.params.get("scope")), self._language(call))
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, call: Call) -> list[JSON]:
        key = (self._scope_key(call.params.get("scope")), self._language(call))
        return [dict(command) for command in self.commands.get(key, [])]

    def _delete_my_commands(self, call: Call) -> bool:
        key = (self._scope_key(call.params.get("scope")), self._language(call))
        self.commands.pop(key, None)
        return True

    def _setting_setter(self, name: str, limit: int) -> Callable[[Call], bool]:
        def setter(call: Call) -> bool:
            value = call.params.get(name, "")
            if len(value) > limit:
                raise bad_request(f"{name} is too long (at most {limit} characters)")
            self.bot_settings[(name, self._language(call))] = value
            return True

        return setter

    def _setting_getter(self, name: str) -> Callable[[Call], JSON]:
        def getter(call: Call) -> JSON:
            value = self.bot_settings.get((name, self._language(call)))
            if value is None:
                value = self.bot_settings.get((name, ""), "")
            if name == "name" and not value:
                value = self.bot_user["first_name"]
            return {name: value}

        return getter

    def _set_chat_menu_button(self, call: Call) -> bool:
        chat_id = call.params.get("chat_id")
        if chat_id is not None:
            self._private_chat(chat_id, sending=False)
        self.bot_settings[("menu_button", chat_id)] = call.params.get(
            "menu_button", {"type": "default"}
        )
        return True

    def _get_chat_menu_button(self, call: Call) -> JSON:
        chat_id = call.params.get("chat_id")
        button = self.bot_settings.get(("menu_button", chat_id)) or self.bot_settings.get(
            ("menu_button", None), {"type": "commands"}
        )
        return dict(button)

    def _get_chat(self, call: Call) -> JSON:
        _, user = self._private_chat(call.params["chat_id"], sending=False)
        return {
            **user.chat_api(),
            "accent_color_id": user.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _send_message(self, call: Call) -> JSON:
        params = call.params
        chat, _ = self._private_chat(params["chat_id"])
        text, entities = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._check_reply_parameters(chat, params)
        message = self._new_message(
            chat,
            from_bot=True,
            sender=self.bot_user_short,
            kind="text",
            text=text,
            entities=entities,
            raw_text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
        )
        message.reply_to = reply_to
        return message.to_api()

    @property
    def bot_user_short(self) -> JSON:
        """The bot as the ``from`` of its messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_user["first_name"],
            "username": self.bot_user["username"],
        }

    def _send_media(self, call: Call) -> JSON:
        params = call.params
        field_name, kind = MEDIA_METHODS[call.method]
        chat, _ = self._private_chat(params["chat_id"])
        stored = self._file_param(params[field_name], call.files, kind)
        caption: str | None = None
        entities: list[JSON] = []
        if "caption" in params:
            caption, entities = self._format(
                params["caption"],
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._check_reply_parameters(chat, params)
        message = self._new_message(
            chat,
            from_bot=True,
            sender=self.bot_user_short,
            kind=kind,
            text=caption or None,
            entities=entities,
            raw_text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            content=self.file_content(stored, kind),
            file_id=stored.file_id,
        )
        message.reply_to = reply_to
        return message.to_api()

    def _send_media_group(self, call: Call) -> list[JSON]:
        params = call.params
        chat, _ = self._private_chat(params["chat_id"])
        media: list[JSON] = params["media"]
        if not 2 <= len(media) <= 10:
            raise bad_request("wrong number of messages in the media group (must be 2-10)")
        kinds = {item["type"] for item in media}
        if len(kinds) > 1 and (kinds & {"document", "audio"}):
            raise bad_request("documents and audio files can't be mixed with other media types")
        reply_to = self._check_reply_parameters(chat, params)
        group_id = str(10**12 + self._seq)
        sent: list[JSON] = []
        for item in media:
            kind = item["type"]
            stored = self._file_param(item["media"], call.files, kind)
            caption: str | None = None
            entities: list[JSON] = []
            if "caption" in item:
                caption, entities = self._format(
                    item["caption"],
                    item.get("parse_mode"),
                    item.get("caption_entities"),
                    caption=True,
                )
            message = self._new_message(
                chat,
                from_bot=True,
                sender=self.bot_user_short,
                kind=kind,
                text=caption or None,
                entities=entities,
                raw_text=item.get("caption"),
                parse_mode=item.get("parse_mode"),
                content={**self.file_content(stored, kind), "media_group_id": group_id},
                file_id=stored.file_id,
            )
            message.reply_to = reply_to
            sent.append(message.to_api())
        return sent

    def _send_contact(self, call: Call) -> JSON:
        params = call.params
        chat, _ = self._private_chat(params["chat_id"])
        contact = {"phone_number": params["phone_number"], "first_name": params["first_name"]}
        for key in ("last_name", "vcard"):
            if key in params:
                contact[key] = params[key]
        message = self._new_message(
            chat,
            from_bot=True,
            sender=self.bot_user_short,
            kind="contact",
            reply_markup=self._check_markup(params.get("reply_markup")),
            content={"contact": contact},
        )
        return message.to_api()

    def _send_location(self, call: Call) -> JSON:
        params = call.params
        chat, _ = self._private_chat(params["chat_id"])
        latitude, longitude = params["latitude"], params["longitude"]
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong location coordinates")
        message = self._new_message(
            chat,
            from_bot=True,
            sender=self.bot_user_short,
            kind="location",
            reply_markup=self._check_markup(params.get("reply_markup")),
            content={"location": {"latitude": latitude, "longitude": longitude}},
        )
        return message.to_api()

    def _edit_message_text(self, call: Call) -> JSON:
        params = call.params
        _, message = self._find_message(call, action="edit")
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        if "text" not in params:
            raise bad_request("message text is empty")
        text, entities = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if (
            text == message.text
            and entities == message.entities
            and markup == message.inline_markup
        ):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.entities = text, entities
        message.raw_text, message.parse_mode = params["text"], params.get("parse_mode")
        message.reply_markup = markup
        self._touch_message(message)
        return message.to_api()

    def _edit_message_caption(self, call: Call) -> JSON:
        params = call.params
        _, message = self._find_message(call, action="edit")
        if message.kind not in CAPTION_KINDS:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._format(
            params.get("caption", ""),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if (
            (caption or None) == message.text
            and entities == message.entities
            and markup == message.inline_markup
        ):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.entities = caption or None, entities
        message.raw_text, message.parse_mode = params.get("caption"), params.get("parse_mode")
        message.reply_markup = markup
        self._touch_message(message)
        return message.to_api()

    def _edit_message_reply_markup(self, call: Call) -> JSON:
        _, message = self._find_message(call, action="edit")
        markup = self._check_markup(call.params.get("reply_markup"), inline_only=True)
        if markup == message.inline_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.reply_markup = markup
        self._touch_message(message)
        return message.to_api()

    def _delete_message(self, call: Call) -> bool:
        chat, message = self._find_message(call, action="delete")
        self._remove_message(chat, message)
        return True

    def _remove_message(self, chat: ChatState, message: StoredMessage) -> None:
        chat.messages.pop(message.message_id, None)
        message.deleted = True
        self._seq += 1
        message.changed_seq = self._seq
        self._notify()

    def _delete_messages(self, call: Call) -> bool:
        chat, _ = self._private_chat(call.params["chat_id"], sending=False)
        ids: list[int] = call.params["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        for message_id in ids:
            message = chat.messages.get(message_id)
            if message is not None:
                self._remove_message(chat, message)
        return True

    def _answer_callback_query(self, call: Call) -> bool:
        params = call.params
        record = self.callback_queries.get(params["callback_query_id"])
        if record is None or record.answered:
            raise bad_request(QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text", "")
        if utf16_len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request(
                f"MESSAGE_TOO_LONG (callback answer text is {utf16_len(text)} characters, "
                f"at most {CALLBACK_ANSWER_LIMIT})"
            )
        url = params.get("url")
        if url is not None and not re.match(r"^(?:https?://)?(?:t|telegram)\.me/", url):
            raise bad_request("URL_INVALID (only t.me links and game URLs are allowed)")
        record.answered = True
        record.answer = {
            k: params[k] for k in ("text", "show_alert", "url", "cache_time") if k in params
        }
        self._notify()
        return True

    def _send_chat_action(self, call: Call) -> bool:
        chat, _ = self._private_chat(call.params["chat_id"])
        action = call.params["action"]
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(action)
        self._notify()
        return True

    def _source_message(self, call: Call, action: str) -> StoredMessage:
        source_chat, _ = self._private_chat(call.params["from_chat_id"], sending=False)
        message = source_chat.messages.get(call.params["message_id"])
        if message is None:
            raise bad_request(f"message to {action} not found")
        return message

    def _copy_message(self, call: Call) -> JSON:
        params = call.params
        source = self._source_message(call, "copy")
        chat, _ = self._private_chat(params["chat_id"])
        text, entities = source.text, list(source.entities)
        raw_text, parse_mode = source.raw_text, source.parse_mode
        if "caption" in params and source.kind != "text":
            text, entities = self._format(
                params["caption"],
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            raw_text, parse_mode = params["caption"], params.get("parse_mode")
            text = text or None
        markup = self._check_markup(params.get("reply_markup"))
        message = self._new_message(
            chat,
            from_bot=True,
            sender=self.bot_user_short,
            kind=source.kind,
            text=text,
            entities=entities,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=markup,
            content=dict(source.content),
            file_id=source.file_id,
        )
        message.reply_to = self._check_reply_parameters(chat, params)
        return {"message_id": message.message_id}

    def _forward_message(self, call: Call) -> JSON:
        source = self._source_message(call, "forward")
        chat, _ = self._private_chat(call.params["chat_id"])
        origin = source.forward_origin or {
            "type": "user",
            "sender_user": source.sender,
            "date": source.date,
        }
        message = self._new_message(
            chat,
            from_bot=True,
            sender=self.bot_user_short,
            kind=source.kind,
            text=source.text,
            entities=list(source.entities),
            raw_text=source.raw_text,
            parse_mode=source.parse_mode,
            content=dict(source.content),
            file_id=source.file_id,
        )
        message.forward_origin = origin
        return message.to_api()

    def _get_file(self, call: Call) -> JSON:
        stored = self.files.get(call.params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }
