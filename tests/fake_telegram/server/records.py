"""What the fake Telegram remembers: calls, users, chats, messages, files, callback queries.

Plain data; the server's mixins change it and render it as Bot API objects (``to_api``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec import UploadedFile

JSON = dict[str, Any]

#: Message kinds that carry a caption (the others are text, contact, location, sticker...).
CAPTION_KINDS = frozenset({"photo", "document", "video", "audio", "voice", "animation"})


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
class BusinessConnectionRecord:
    """A user's Telegram Business account connected to the bot."""

    id: str
    user_id: int
    date: int
    is_enabled: bool = True
    rights: JSON = field(default_factory=dict)

    def to_api(self, user: UserRecord) -> JSON:
        data: JSON = {
            "id": self.id,
            "user": user.to_api(),
            "user_chat_id": self.user_id,
            "date": self.date,
            "is_enabled": self.is_enabled,
        }
        if self.rights:
            data["rights"] = self.rights
        return data


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    message_id: int | None
    data: str | None
    update_id: int | None = None
    answered: bool = False
    answer: JSON | None = None
