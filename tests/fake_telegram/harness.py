"""Scenario harness on top of the fake Bot API server.

>>> tg = FakeTelegram()
>>> base = await tg.start()
>>> anna = tg.user("Анна", language_code="ru")
>>> await anna.send("/start abc")
>>> msg = await anna.wait_message(contains="Согласен")
>>> await anna.press("Согласен")

``wait_message`` works like a queue per user: it returns the *oldest* bot message (or edit)
matching the filters that no earlier ``wait_message`` returned, waiting for one if needed.
``expect_no_message`` fails if there is any bot message or edit that no ``wait_message`` has
returned yet (``mark_seen()`` consumes everything so far).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from aiogram.client.session.aiohttp import AiohttpSession

from .formatting import bot_command_entities
from .server import (
    DEFAULT_TOKEN,
    JSON,
    Call,
    CallbackQueryRecord,
    FakeTelegramServer,
    StoredMessage,
    UserRecord,
)

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0


class ScenarioError(AssertionError):
    """A scenario step failed (timeout, missing button...); the message explains the state."""


@dataclass(frozen=True)
class Button:
    """An inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @property
    def value(self) -> str | None:
        """callback_data, or url for URL buttons."""
        return self.callback_data if self.callback_data is not None else self.url


@dataclass(frozen=True)
class ReplyButton:
    """A reply keyboard button."""

    text: str
    request_contact: bool = False
    request_location: bool = False
    raw: JSON = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class BotMessage:
    """A snapshot of a bot message in its state at the time of the snapshot."""

    chat_id: int
    message_id: int
    kind: str
    #: The text (or caption) as the user sees it: HTML/Markdown parsed, entities decoded.
    text: str
    entities: tuple[JSON, ...]
    #: The text exactly as the bot sent it, and its parse_mode.
    raw_text: str | None
    parse_mode: str | None
    inline_keyboard: tuple[tuple[Button, ...], ...]
    reply_keyboard: tuple[tuple[ReplyButton, ...], ...] | None
    reply_markup: JSON | None
    content: JSON
    file_id: str | None
    edited: bool
    deleted: bool
    forward_origin: JSON | None
    changed_seq: int

    @classmethod
    def from_stored(cls, message: StoredMessage) -> BotMessage:
        markup = message.reply_markup or {}
        inline = tuple(
            tuple(
                Button(
                    text=button["text"],
                    callback_data=button.get("callback_data"),
                    url=button.get("url"),
                    raw=button,
                )
                for button in row
            )
            for row in markup.get("inline_keyboard", [])
        )
        reply: tuple[tuple[ReplyButton, ...], ...] | None = None
        if "keyboard" in markup:
            reply = tuple(
                tuple(_reply_button(button) for button in row) for row in markup["keyboard"]
            )
        return cls(
            chat_id=message.chat_id,
            message_id=message.message_id,
            kind=message.kind,
            text=message.text or "",
            entities=tuple(message.entities),
            raw_text=message.raw_text,
            parse_mode=message.parse_mode,
            inline_keyboard=inline,
            reply_keyboard=reply,
            reply_markup=message.reply_markup,
            content=dict(message.content),
            file_id=message.file_id,
            edited=message.edit_date is not None,
            deleted=message.deleted,
            forward_origin=message.forward_origin,
            changed_seq=message.changed_seq,
        )

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of (text, callback_data or url)."""
        return [[(button.text, button.value) for button in row] for row in self.inline_keyboard]

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.inline_keyboard for button in row]

    @property
    def reply_buttons(self) -> list[list[str]]:
        """Reply keyboard button texts by rows ([] if the message has no reply keyboard)."""
        return [[button.text for button in row] for row in self.reply_keyboard or ()]

    def button(self, text: str) -> Button:
        """The inline button with this text (exact match first, then substring)."""
        found = _find_button(self.inline_keyboard, text)
        if found is None:
            raise ScenarioError(f"no inline button {text!r} in {self.describe()}")
        return found

    def has_button(self, text: str) -> bool:
        return _find_button(self.inline_keyboard, text) is not None

    def __contains__(self, fragment: str) -> bool:
        return fragment in self.text

    def describe(self) -> str:
        flags = "".join(
            flag for flag, on in ((" edited", self.edited), (" deleted", self.deleted)) if on
        )
        text = self.text if len(self.text) <= 200 else self.text[:197] + "..."
        line = f"#{self.message_id} [{self.kind}{flags}] {text!r}"
        if self.inline_keyboard:
            line += f" buttons={self.buttons}"
        if self.reply_keyboard:
            line += f" reply_keyboard={self.reply_buttons}"
        return line


def _reply_button(button: Any) -> ReplyButton:
    if isinstance(button, str):
        return ReplyButton(text=button, raw={"text": button})
    return ReplyButton(
        text=button["text"],
        request_contact=bool(button.get("request_contact")),
        request_location=bool(button.get("request_location")),
        raw=button,
    )


_B = TypeVar("_B", Button, ReplyButton)


def _find_button(rows: Sequence[Sequence[_B]], text: str) -> _B | None:
    flat = [button for row in rows for button in row]
    for button in flat:
        if button.text == text:
            return button
    folded = text.casefold()
    for button in flat:
        if folded in button.text.casefold():
            return button
    return None


@dataclass(frozen=True)
class CallbackAnswer:
    """How the bot answered a callback query."""

    text: str | None
    show_alert: bool
    url: str | None


class MenuCommand(NamedTuple):
    command: str
    description: str


class FakeUser:
    """A simulated user talking to the bot in a private chat."""

    def __init__(self, tg: FakeTelegram, record: UserRecord) -> None:
        self.tg = tg
        self.record = record
        self._baseline = tg.seq
        self._consumed: set[tuple[int, int]] = set()

    def __repr__(self) -> str:
        return f"<FakeUser {self.record.first_name!r} id={self.id}>"

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def first_name(self) -> str:
        return self.record.first_name

    @property
    def username(self) -> str | None:
        return self.record.username

    @property
    def language_code(self) -> str | None:
        return self.record.language_code

    @property
    def phone(self) -> str | None:
        return self.record.phone

    # ------------------------------------------------------------------ actions

    async def send(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a text message (``/commands`` get ``bot_command`` entities); its message_id."""
        fields: dict[str, Any] = {"text": text}
        entities = bot_command_entities(text)
        if entities:
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message_id"] = reply_to
        return self._message("text", **fields)

    async def share_contact(
        self,
        phone: str | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | bool | None = True,
    ) -> int:
        """Send a contact; by default her own (``contact.user_id`` = her id).

        ``user_id=None`` sends a contact without user_id (someone else's phone card).
        """
        phone = phone or self.record.phone or f"+7916{self.id % 10_000_000:07d}"
        contact: JSON = {"phone_number": phone, "first_name": first_name or self.first_name}
        last = last_name if last_name is not None else self.record.last_name
        if last:
            contact["last_name"] = last
        if user_id is True:
            contact["user_id"] = self.id
        elif isinstance(user_id, int) and not isinstance(user_id, bool):
            contact["user_id"] = user_id
        return self._message("contact", contact=contact)

    async def send_sticker(self, emoji: str = "👍") -> int:
        stored = self.tg.register_file("sticker", data=b"RIFF....WEBP")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._message("sticker", sticker=sticker)

    async def send_photo(self, caption: str | None = None, *, data: bytes = b"\xff\xd8\xff") -> int:
        stored = self.tg.register_file("photo", data=data, mime_type="image/jpeg")
        fields: dict[str, Any] = self.tg.file_content(stored, "photo")
        if caption is not None:
            fields["caption"] = caption
        return self._message("photo", **fields)

    async def send_document(
        self,
        filename: str = "document.pdf",
        *,
        data: bytes = b"%PDF-1.4 fake",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> int:
        stored = self.tg.register_file(
            "document", data=data, filename=filename, mime_type=mime_type
        )
        fields: dict[str, Any] = self.tg.file_content(stored, "document")
        if caption is not None:
            fields["caption"] = caption
        return self._message("document", **fields)

    async def send_location(self, latitude: float = 55.7558, longitude: float = 37.6173) -> int:
        return self._message("location", location={"latitude": latitude, "longitude": longitude})

    def _message(self, kind: str, **fields: Any) -> int:
        return self.tg.user_message(self.id, kind, **fields).message_id

    async def press(
        self,
        text: str,
        *,
        message_id: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Press the inline button ``text`` (exact match, else substring) and wait for the answer.

        Uses the newest message that has such a button (or ``message_id``), waiting up to
        ``timeout`` for one to appear; returns after the bot called answerCallbackQuery.
        """
        timeout = self.tg.default_timeout if timeout is None else timeout

        def find() -> tuple[StoredMessage, Button] | None:
            for message in reversed(self.tg.messages_in(self.id)):
                if message_id is not None and message.message_id != message_id:
                    continue
                snapshot = BotMessage.from_stored(message)
                found = _find_button(snapshot.inline_keyboard, text)
                if found is not None:
                    return message, found
            return None

        message, button = await self.tg.wait_for(
            find,
            timeout=timeout,
            what=lambda: f"an inline button {text!r} for {self}",
            chat_id=self.id,
        )
        if button.callback_data is None:
            raise ScenarioError(
                f"button {button.text!r} of message #{message.message_id} is not a callback "
                f"button ({button.raw}); nothing to press"
            )
        return await self._callback(button.callback_data, message.message_id, timeout)

    async def press_data(
        self,
        data: str,
        *,
        message_id: int | None = None,
        wait_answer: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109 - per-step timeout is part of the harness API
    ) -> CallbackAnswer | None:
        """Send a callback query with arbitrary (forged or stale) data.

        ``message_id`` defaults to the newest bot message in the chat; a message id that does
        not exist (any more) is sent as an InaccessibleMessage, as Telegram does.
        """
        timeout = self.tg.default_timeout if timeout is None else timeout
        if message_id is None:
            current = self.tg.messages_in(self.id)
            message_id = current[-1].message_id if current else None
        if not wait_answer:
            self._start_callback(data, message_id)
            return None
        return await self._callback(data, message_id, timeout)

    def _start_callback(self, data: str, message_id: int | None) -> CallbackQueryRecord:
        record = self.tg.callback_query(self.id, data, message_id)
        if record.update_id is None:
            raise ScenarioError(
                f"the callback_query update of {self} was dropped: the bot's allowed_updates "
                f"are {sorted(self.tg.allowed_updates)}"
            )
        return record

    async def _callback(
        self, data: str, message_id: int | None, wait_seconds: float
    ) -> CallbackAnswer:
        record = self._start_callback(data, message_id)

        def answered() -> CallbackAnswer | None:
            if not record.answered:
                return None
            answer = record.answer or {}
            return CallbackAnswer(
                text=answer.get("text"),
                show_alert=bool(answer.get("show_alert", False)),
                url=answer.get("url"),
            )

        return await self.tg.wait_for(
            answered,
            timeout=wait_seconds,
            what=lambda: (
                f"answerCallbackQuery for the callback query {record.id} "
                f"(data={data!r}, message #{message_id}) of {self}"
            ),
            chat_id=self.id,
        )

    async def tap_reply_button(self, text: str, *, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Tap a button of the reply keyboard currently shown (exact, else substring).

        Sends its text, or her contact for ``request_contact``, or a location for
        ``request_location``; returns the message_id of the sent message.
        """
        timeout = self.tg.default_timeout if timeout is None else timeout

        def find() -> ReplyButton | None:
            keyboard = self.tg.chat(self.id).reply_keyboard
            if keyboard is None:
                return None
            rows = [[_reply_button(button) for button in row] for row in keyboard["keyboard"]]
            return _find_button(rows, text)

        button = await self.tg.wait_for(
            find,
            timeout=timeout,
            what=lambda: (
                f"a reply keyboard button {text!r} shown to {self} "
                f"(current keyboard: {self.reply_keyboard})"
            ),
            chat_id=self.id,
        )
        if button.request_contact:
            return await self.share_contact()
        if button.request_location:
            return await self.send_location()
        return await self.send(button.text)

    async def block_bot(self, *, notify: bool = True) -> None:
        """Block the bot (sends then fail with 403); optionally queue my_chat_member."""
        self.tg.block(self.id)
        if notify:
            self._member_update("member", "kicked")

    async def unblock_bot(self, *, notify: bool = True) -> None:
        self.tg.unblock(self.id)
        if notify:
            self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> None:
        bot = self.tg.bot_user_short

        def member(status: str) -> JSON:
            data: JSON = {"status": status, "user": bot}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self.tg.enqueue_update(
            {
                "my_chat_member": {
                    "chat": self.record.chat_api(),
                    "from": self.record.to_api(),
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    # ---------------------------------------------------------------- observing

    async def wait_message(
        self,
        contains: str | None = None,
        *,
        exact: str | None = None,
        regex: str | None = None,
        kind: str | None = None,
        with_button: str | None = None,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per-step timeout is part of the harness API
    ) -> BotMessage:
        """Wait for a bot message (new or edited) in her chat that no earlier call returned.

        Filters: ``contains`` (substring of the visible text/caption), ``exact``, ``regex``
        (re.search), ``kind`` ("text", "photo", "document"...), ``with_button`` (an inline
        button with this text), ``where`` (any predicate).  The oldest matching one is returned.
        """
        timeout = self.tg.default_timeout if timeout is None else timeout
        pattern = re.compile(regex) if regex is not None else None

        def matches(message: BotMessage) -> bool:
            return (
                (contains is None or contains in message.text)
                and (exact is None or message.text == exact)
                and (pattern is None or pattern.search(message.text) is not None)
                and (kind is None or message.kind == kind)
                and (with_button is None or message.has_button(with_button))
                and (where is None or where(message))
            )

        def find() -> BotMessage | None:
            candidates = [m for m in self._unseen() if matches(m)]
            return min(candidates, key=lambda m: m.changed_seq) if candidates else None

        filters = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("contains", contains),
                ("exact", exact),
                ("regex", regex),
                ("kind", kind),
                ("with_button", with_button),
                ("where", where),
            )
            if value is not None
        )
        message = await self.tg.wait_for(
            find,
            timeout=timeout,
            what=lambda: f"a new bot message ({filters or 'any'}) in the chat with {self}",
            chat_id=self.id,
        )
        self._consumed.add((message.message_id, message.changed_seq))
        return message

    async def expect_no_message(self, within: float = 0.3) -> None:
        """Fail if the bot sends or edits a message here that no wait_message returned."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            unseen = self._unseen()
            if unseen:
                raise ScenarioError(
                    f"expected no new bot message for {self}, got:\n  "
                    + "\n  ".join(m.describe() for m in unseen)
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await self.tg.wait_change(remaining)

    def mark_seen(self) -> None:
        """Treat every bot message so far as seen by wait_message/expect_no_message."""
        for message in self.tg.messages_in(self.id):
            self._consumed.add((message.message_id, message.changed_seq))

    def _unseen(self) -> list[BotMessage]:
        return [
            BotMessage.from_stored(message)
            for message in self.tg.messages_in(self.id)
            if message.changed_seq > self._baseline
            and (message.message_id, message.changed_seq) not in self._consumed
        ]

    async def commands(self) -> list[MenuCommand]:
        """The command menu she sees (resolved from setMyCommands scopes and her language)."""
        return [MenuCommand(c["command"], c["description"]) for c in self.tg.commands_for(self.id)]

    @property
    def messages(self) -> list[BotMessage]:
        """All current bot messages in her chat (deleted ones excluded), oldest first."""
        return [BotMessage.from_stored(m) for m in self.tg.messages_in(self.id)]

    @property
    def last_message(self) -> BotMessage:
        """The newest current bot message in her chat."""
        current = self.tg.messages_in(self.id)
        if not current:
            raise ScenarioError(f"there are no bot messages in the chat with {self}")
        return BotMessage.from_stored(current[-1])

    @property
    def history(self) -> list[Call]:
        """Every call the bot made for her chat (sends, edits, deletes...), in order."""
        return [call for call in self.tg.calls if call.chat_id == self.id]

    @property
    def chat_actions(self) -> list[str]:
        return list(self.tg.chat(self.id).actions)

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """The reply keyboard she currently sees (button texts by row), if any."""
        keyboard = self.tg.chat(self.id).reply_keyboard
        if keyboard is None:
            return None
        return [[_reply_button(button).text for button in row] for row in keyboard["keyboard"]]


class FakeTelegram(FakeTelegramServer):
    """The fake server plus scenario helpers (users, waiting, settling)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        default_timeout: float = DEFAULT_TIMEOUT,
        first_user_id: int = 100_001,
        **server_kwargs: Any,
    ) -> None:
        super().__init__(token, **server_kwargs)
        self.default_timeout = default_timeout
        self._user_ids = itertools.count(first_user_id)
        self._dispatchers: list[Dispatcher] = []

    def track_dispatcher(self, dispatcher: Dispatcher) -> None:
        """Let :meth:`settle` also wait for this dispatcher's running update handlers.

        (With ``handle_as_tasks=True``, aiogram's default, handlers run as tasks after the
        next getUpdates has started; :meth:`polling` tracks its dispatcher automatically.)
        """
        if dispatcher not in self._dispatchers:
            self._dispatchers.append(dispatcher)

    def _handler_tasks(self) -> set[asyncio.Task[Any]]:
        current = asyncio.current_task()
        tasks: set[asyncio.Task[Any]] = set()
        for dispatcher in self._dispatchers:
            # aiogram 3 keeps the tasks of running handlers in this (private) set.
            running: set[asyncio.Task[Any]] = getattr(dispatcher, "_handle_update_tasks", set())
            tasks.update(task for task in running if not task.done() and task is not current)
        return tasks

    def user(
        self,
        first_name: str = "Анна",
        *,
        last_name: str | None = None,
        username: str | None = None,
        no_username: bool = False,
        language_code: str | None = "ru",
        user_id: int | None = None,
        phone: str | None = None,
        is_premium: bool = False,
        started: bool = True,
    ) -> FakeUser:
        """Create a user (ids increase from ``first_user_id`` unless ``user_id`` is given).

        ``username`` defaults to ``user<id>`` (``no_username=True`` for none); ``started=False``
        means she never wrote to the bot, so sending to her fails with 403 until she does.
        """
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users:
                user_id = next(self._user_ids)
        record = UserRecord(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=None if no_username else (username or f"user{user_id}"),
            language_code=language_code,
            phone=phone,
            is_premium=is_premium,
            started=started,
        )
        self.add_user(record)
        return FakeUser(self, record)

    @property
    def poll_count(self) -> int:
        """How many getUpdates calls the bot has made."""
        return self._poll_count

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        stored = self.chat(chat_id).messages.get(message_id)
        if stored is None:
            raise ScenarioError(f"no current message #{message_id} in chat {chat_id}")
        return BotMessage.from_stored(stored)

    async def wait_for(
        self,
        probe: Callable[[], T | None],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-step timeout is part of the harness API
        what: Callable[[], str] | str = "a condition",
        chat_id: int | None = None,
    ) -> T:
        """Re-evaluate ``probe`` on every state change until it returns non-None (or time out)."""
        timeout = self.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = probe()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                description = what() if callable(what) else what
                raise ScenarioError(self._timeout_report(description, timeout, chat_id))
            await self.wait_change(remaining)

    async def settle(self, *, quiet: float = 0.1, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot is done with everything sent so far.

        That is: every queued update was fetched, the bot polled again, the handlers of
        tracked dispatchers (see :meth:`track_dispatcher`) finished, and no API call has been
        in flight or started for ``quiet`` seconds.  Work done outside update handlers without
        API calls (e.g. a background task a handler spawned) is not waited for.
        """
        timeout = self.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            busy = self._handler_tasks()
            if busy and remaining > 0:
                await asyncio.wait(busy, timeout=remaining)
                continue
            if not busy and self.is_settled(quiet):
                return
            if remaining <= 0:
                raise ScenarioError(
                    self._timeout_report(
                        f"the bot to settle ({len(self.pending_updates)} unconfirmed updates, "
                        f"{self._inflight} calls in flight, {len(busy)} handlers running, "
                        f"{self.poll_count} polls so far - is the bot polling?)",
                        timeout,
                        None,
                    )
                )
            wait = min(remaining, max(quiet - self.idle_for(), 0.005))
            await self.wait_change(wait)

    def _timeout_report(self, what: str, timeout: float, chat_id: int | None) -> str:
        lines = [f"timed out after {timeout:g}s waiting for {what}"]
        if chat_id is not None:
            messages = self.messages_in(chat_id, from_bot=None)
            lines.append(f"messages in chat {chat_id} (newest last):")
            for message in messages[-10:]:
                who = "bot" if message.from_bot else "user"
                lines.append(f"  {who}: {BotMessage.from_stored(message).describe()}")
            calls = [call for call in self.calls if call.chat_id == chat_id][-5:]
            if calls:
                lines.append("last calls for this chat:")
                lines.extend(f"  {_describe_call(call)}" for call in calls)
        other = [c for c in self.calls if c.method != "getUpdates"][-5:]
        if other and chat_id is None:
            lines.append("last calls:")
            lines.extend(f"  {_describe_call(call)}" for call in other)
        lines.append(f"getUpdates calls so far: {self.poll_count}")
        if self.violations:
            lines.append("violations:")
            lines.extend(f"  {violation}" for violation in self.violations)
        return "\n".join(lines)

    def make_session(self) -> AiohttpSession:
        """An aiogram session pointed at this server (call after :meth:`start`).

        Its ``close()`` skips aiogram's fixed 0.25 s wait for SSL shutdown (plain HTTP here),
        which keeps start/stop of polling in tests fast.
        """
        from aiogram.client.telegram import TelegramAPIServer

        return _FastCloseSession(api=TelegramAPIServer.from_base(self.base_url))

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """An aiogram Bot that talks to this server (call after :meth:`start`)."""
        from aiogram import Bot

        return Bot(self.token, session=self.make_session(), **bot_kwargs)

    @contextlib.asynccontextmanager
    async def polling(
        self, dispatcher: Dispatcher, bot: Bot, **polling_kwargs: Any
    ) -> AsyncIterator[asyncio.Task[None]]:
        """Run ``dispatcher.start_polling(bot)`` in a task until the block exits.

        Waits for the first getUpdates so the bot is ready when the block starts.
        """
        polls_before = self.poll_count
        self.track_dispatcher(dispatcher)
        polling_kwargs.setdefault("handle_signals", False)
        task = asyncio.create_task(dispatcher.start_polling(bot, **polling_kwargs))

        def polling_started() -> bool | None:
            if task.done():
                task.result()  # re-raise a startup failure
            return self.poll_count > polls_before or None

        try:
            await self.wait_for(polling_started, what="the bot to start polling")
            yield task
        finally:
            if not task.done():
                with contextlib.suppress(RuntimeError):
                    await dispatcher.stop_polling()
            await task


def _describe_call(call: Call) -> str:
    params = {k: v for k, v in call.params.items() if k != "chat_id"}
    text = repr(params)
    if len(text) > 160:
        text = text[:157] + "..."
    outcome = "ok" if call.ok else f"{call.status} {call.error}"
    return f"{call.method}{text} -> {outcome}"


class _FastCloseSession(AiohttpSession):
    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
