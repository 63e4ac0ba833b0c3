"""Telegram's rules for what a message may contain: text, captions, keyboards, replies."""

from __future__ import annotations

import re

from ..formatting import EntityParseError, parse_text, trim_text, utf16_len
from .errors import bad_request
from .records import JSON, ChatState
from .state import ServerState

MESSAGE_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


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


_URL_RE = re.compile(r"^(?:https?://[^\s/$.?#][^\s]*|tg://\S+)$", re.IGNORECASE)


class ContentRules(ServerState):
    """Formats text like Telegram and refuses what Telegram refuses."""

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
