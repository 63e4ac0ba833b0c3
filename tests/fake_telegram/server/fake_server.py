"""The fake Telegram Bot API server: every kind of method, put together.

The bot talks to it over real HTTP (``AiohttpSession(api=TelegramAPIServer.from_base(url))``).
Every call is validated against the bundled Bot API spec and Telegram's limits; anything a
real Telegram would refuse is answered with the same kind of error *and* recorded in
:attr:`FakeTelegramServer.violations`, so a test suite can fail on the first misbehaving call.

Only private chats with simulated users are modelled (no groups, channels, inline mode,
payments); webhooks are delivered the way Telegram does (:mod:`.webhooks`).  Message ids are
per chat and shared by the user's and the bot's messages, as in a real private chat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .bot_profile import BotProfile
from .business import BusinessAccounts
from .callbacks import CallbackQueries
from .chats import ChatInfo
from .editing import MessageEditing
from .http_app import HttpApp
from .records import Call
from .sending import MEDIA_METHODS, MessageSending
from .updates import UpdateQueue
from .webhooks import WebhookDelivery


class FakeTelegramServer(
    HttpApp,
    CallbackQueries,
    BusinessAccounts,
    UpdateQueue,
    WebhookDelivery,
    MessageSending,
    MessageEditing,
    BotProfile,
    ChatInfo,
):
    """The Bot API over HTTP plus the state a test inspects.

    Public state: :attr:`calls`, :attr:`violations`, :attr:`users`, :attr:`chats`,
    :attr:`commands`, :attr:`callback_queries`, :attr:`files`.

    getUpdates: see :mod:`.updates`; setWebhook and the deliveries: :mod:`.webhooks`.  Must
    run in the same event loop as the test (the bot may run anywhere, it only needs HTTP).
    """

    def _method_table(self) -> dict[str, Callable[[Call], Any]]:
        table: dict[str, Callable[[Call], Any]] = {
            "getUpdates": self._get_updates,
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
            table[method] = self._send_media
        return table
