"""A simulated user in a private chat with the bot: what she does and what she waits for.

``wait_message`` works like a queue per user: it returns the *oldest* bot message (or edit)
matching the filters that no earlier ``wait_message`` returned, waiting for one if needed.
``expect_no_message`` fails if there is any bot message or edit that no ``wait_message`` has
returned yet (``mark_seen()`` consumes everything so far).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .bot_message import (
    BotMessage,
    Button,
    CallbackAnswer,
    MenuCommand,
    ReplyButton,
    ScenarioError,
    as_reply_button,
    find_button,
)
from .formatting import bot_command_entities
from .server import JSON, Call, CallbackQueryRecord, StoredMessage, UserRecord

if TYPE_CHECKING:
    from .harness import FakeTelegram


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

    # ------------------------------------------------------- Telegram Business

    async def connect_business(self, *, can_reply: bool = False) -> str:
        """She connects the bot to her own account (Settings → Telegram Business → Chatbots):
        she has Premium, the bot has Business Mode. Returns the connection id."""
        self.record.is_premium = True
        self.tg.enable_business_mode()
        return self.tg.connect_business(self.id, can_reply=can_reply)

    async def disconnect_business(self) -> None:
        """She removes the bot from her account's chatbots."""
        self.tg.disconnect_business(self.id)

    async def write_to_business(self, owner: FakeUser, text: str) -> int:
        """She writes to ``owner``'s account (a connected business account): its message id
        in that chat."""
        return self.tg.business_message(owner.id, self.id, self.id, "text", text=text).message_id

    async def send_photo_to_business(self, owner: FakeUser, caption: str | None = None) -> int:
        stored = self.tg.register_file("photo", data=b"\xff\xd8\xff", mime_type="image/jpeg")
        fields: dict[str, Any] = self.tg.file_content(stored, "photo")
        if caption is not None:
            fields["caption"] = caption
        return self.tg.business_message(owner.id, self.id, self.id, "photo", **fields).message_id

    async def reply_from_business(
        self, client: FakeUser, text: str, *, from_offline: bool = False
    ) -> int:
        """She (the account's owner) writes to ``client`` from her own account; with
        ``from_offline`` it is her greeting or away message, sent by Telegram itself."""
        return self.tg.business_message(
            self.id, client.id, self.id, "text", text=text, from_offline=from_offline
        ).message_id

    async def edit_in_business(self, other: FakeUser, message_id: int, text: str) -> None:
        """She edits her message ``message_id`` in the business chat with ``other``."""
        owner, client = self._business_sides(other)
        self.tg.edit_business_message(owner.id, client.id, message_id, text)

    async def delete_in_business(self, other: FakeUser, *message_ids: int) -> None:
        """She deletes messages of the business chat with ``other`` (for both of them)."""
        owner, client = self._business_sides(other)
        self.tg.delete_business_messages(owner.id, client.id, list(message_ids))

    def _business_sides(self, other: FakeUser) -> tuple[FakeUser, FakeUser]:
        """(the connected account's owner, the other person) of a chat between the two."""
        owners = {c.user_id for c in self.tg.business_connections.values()}
        return (self, other) if self.id in owners else (other, self)

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
                found = find_button(snapshot.inline_keyboard, text)
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
            rows = [[as_reply_button(button) for button in row] for row in keyboard["keyboard"]]
            return find_button(rows, text)

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
        return [[as_reply_button(button).text for button in row] for row in keyboard["keyboard"]]
