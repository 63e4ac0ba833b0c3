"""The fake Telegram Bot API server (see :mod:`.fake_server`), one kind of method per module.

- :mod:`.fake_server` puts the kinds together and maps Bot API method names to them;
- :mod:`.state` holds what a test inspects, :mod:`.records` the data kept about each thing;
- :mod:`.http_app` serves HTTP, :mod:`.injections` makes Telegram fail or slow on purpose;
- :mod:`.updates`, :mod:`.callbacks`, :mod:`.sending`, :mod:`.editing`, :mod:`.files`,
  :mod:`.bot_profile`, :mod:`.chats` implement the methods; :mod:`.business` connects
  business accounts (Telegram Business) and queues their chats' updates;
- :mod:`.content_rules` and :mod:`.errors` are what Telegram accepts and how it refuses.
"""

from .errors import ApiError, bad_request
from .fake_server import FakeTelegramServer
from .records import (
    JSON,
    Call,
    CallbackQueryRecord,
    ChatState,
    StoredFile,
    StoredMessage,
    UserRecord,
)
from .state import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "JSON",
    "ApiError",
    "Call",
    "CallbackQueryRecord",
    "ChatState",
    "FakeTelegramServer",
    "StoredFile",
    "StoredMessage",
    "UserRecord",
    "bad_request",
]
