"""The fake Telegram's state and the bookkeeping every Bot API method shares.

:class:`ServerState` holds everything a test may inspect (calls, violations, users, chats...)
and the helpers the method implementations build on: change tracking (``seq``, ``wait_change``,
``is_settled``), the record of violations, and the private chats with their messages.  The
methods themselves live in mixins next to this module, one kind per module, and
:class:`~tests.fake_telegram.server.fake_server.FakeTelegramServer` puts them together.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..spec import ApiSpec, SpecError, load_spec
from .errors import ApiError, bad_request
from .records import (
    JSON,
    BusinessConnectionRecord,
    Call,
    CallbackQueryRecord,
    ChatState,
    StoredFile,
    StoredMessage,
    UserRecord,
)

if TYPE_CHECKING:
    from .injections import InjectedFault
    from .webhooks import Delivery

DEFAULT_TOKEN = "123456789:TEST-fake-telegram-token"
DEFAULT_BOT_USERNAME = "sales_test_bot"


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


class ServerState:
    """The state of one fake Telegram and the helpers its method implementations share."""

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
        webhook_via: str | None = None,
        webhook_timeout: float = 10.0,
        webhook_retry_delay: float = 0.05,
        webhook_ssl: ssl.SSLContext | None = None,
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
        #: Webhook delivery (see .webhooks): the balancer's plain-HTTP address standing in for
        #: the HTTPS webhook URL, how long an answer is waited for, the pause before a retry.
        self.webhook_via = webhook_via
        self.webhook_timeout = webhook_timeout
        self.webhook_retry_delay = webhook_retry_delay
        #: How the balancer's certificate is checked when ``webhook_via`` is https (a test CA).
        self.webhook_ssl = webhook_ssl
        #: Every POST made to the webhook, in the order they ended.
        self.deliveries: list[Delivery] = []
        #: update_id -> chat of the updates being POSTed (or waiting to be retried).
        self._in_flight: dict[int, int | None] = {}
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
        #: Telegram Business: connection id -> the connection (see :mod:`.business`).
        self.business_connections: dict[str, BusinessConnectionRecord] = {}
        #: (connection id, the other person's id) -> a private chat of a business account.
        self.business_chats: dict[tuple[str, int], ChatState] = {}
        #: Every call the bot made on behalf of a business account (``business_connection_id``).
        self.business_calls: list[Call] = []

        self._next_update_id = 1
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._seq = 0
        self._changed = asyncio.Event()
        self._injected: list[InjectedFault] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._stopping = False
        self._poll_generation = 0
        self._poll_count = 0
        self._delivered_upto = 0
        self._delivery_poll = 0
        self._inflight = 0
        self._last_activity = 0.0

        #: Bot API method name -> its implementation (see :meth:`_method_table`).
        self._impl: dict[str, Callable[[Call], Any]] = self._method_table()

    def _method_table(self) -> dict[str, Callable[[Call], Any]]:
        """Bot API method name -> implementation; the composed server lists its methods."""
        return {}

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    @property
    def bot_user_short(self) -> JSON:
        """The bot as the ``from`` of its messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_user["first_name"],
            "username": self.bot_user["username"],
        }

    # --------------------------------------------------------------- change tracking

    @property
    def seq(self) -> int:
        """A counter that increases on every state change (messages, edits, calls...)."""
        return self._seq

    def _notify(self) -> None:
        self._seq += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._notify()

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
        if self.webhook_url:
            if self.webhook_busy() or self._inflight:
                return False
            return loop.time() - self._last_activity >= quiet
        undelivered = any(u["update_id"] > self._delivered_upto for u in self.pending_updates)
        if undelivered or self._inflight:
            return False
        if self._delivered_upto and self._poll_count <= self._delivery_poll:
            return False
        return loop.time() - self._last_activity >= quiet

    def webhook_busy(self) -> bool:
        """Overridden by the webhook delivery (.webhooks)."""
        return False

    async def _stop_delivering(self) -> None:
        """Overridden by the webhook delivery (.webhooks)."""

    def idle_for(self) -> float:
        return asyncio.get_running_loop().time() - self._last_activity

    # ------------------------------------------------------------- recorded calls

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

    def _self_check(self, value: Any, types: Iterable[str], what: str) -> None:
        if not self.self_check:
            return
        try:
            self.spec.check_value(value, tuple(types), what)
        except SpecError as error:
            self.internal_errors.append(f"{what}: {error.description}")

    # ------------------------------------------------------------ users and chats

    def add_user(self, user: UserRecord) -> UserRecord:
        if user.id in self.users:
            raise ValueError(f"user id {user.id} already exists")
        self.users[user.id] = user
        self.chats.setdefault(user.id, ChatState(user.id))
        return user

    def chat(self, chat_id: int) -> ChatState:
        return self.chats.setdefault(chat_id, ChatState(chat_id))

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

    def _business_call(self, call: Call) -> None:
        """A method called with ``business_connection_id``: recorded, and refused unless the
        connection lets the bot reply (see :mod:`.business`)."""
        self.business_calls.append(call)
        raise bad_request("BUSINESS_CONNECTION_INVALID")

    def _touch_message(self, message: StoredMessage) -> None:
        self._seq += 1
        message.changed_seq = self._seq
        message.edit_date = int(time.time())
        self._notify()
