"""The bot changes what it sent: edits of text, caption or buttons, and deletions."""

from __future__ import annotations

from .content_rules import ContentRules
from .errors import NOT_MODIFIED, bad_request
from .records import CAPTION_KINDS, JSON, Call, ChatState, StoredMessage


class MessageEditing(ContentRules):
    """Edits refuse what Telegram refuses, including an edit that changes nothing."""

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

    def _remove_message(self, chat: ChatState, message: StoredMessage) -> None:
        chat.messages.pop(message.message_id, None)
        message.deleted = True
        self._seq += 1
        message.changed_seq = self._seq
        self._notify()
