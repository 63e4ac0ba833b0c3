"""The bot sends: text, media (one or a group), a contact, a location, a copy, a forward."""

from __future__ import annotations

from collections.abc import Mapping

from .content_rules import ContentRules
from .errors import bad_request
from .files import FileStore
from .records import JSON, Call, StoredMessage

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


class MessageSending(ContentRules, FileStore):
    """New bot messages in a private chat."""

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
