"""What a simulated user sees of the bot: message snapshots, buttons, callback answers, menus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from .server import JSON, StoredMessage


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
                tuple(as_reply_button(button) for button in row) for row in markup["keyboard"]
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
        found = find_button(self.inline_keyboard, text)
        if found is None:
            raise ScenarioError(f"no inline button {text!r} in {self.describe()}")
        return found

    def has_button(self, text: str) -> bool:
        return find_button(self.inline_keyboard, text) is not None

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


def as_reply_button(button: Any) -> ReplyButton:
    if isinstance(button, str):
        return ReplyButton(text=button, raw={"text": button})
    return ReplyButton(
        text=button["text"],
        request_contact=bool(button.get("request_contact")),
        request_location=bool(button.get("request_location")),
        raw=button,
    )


_B = TypeVar("_B", Button, ReplyButton)


def find_button(rows: Sequence[Sequence[_B]], text: str) -> _B | None:
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
