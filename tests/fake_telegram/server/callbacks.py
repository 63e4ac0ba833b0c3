"""Inline button presses: the user's callback query and the bot's answerCallbackQuery."""

from __future__ import annotations

import hashlib
import re

from ..formatting import utf16_len
from .errors import QUERY_INVALID, bad_request
from .records import JSON, Call, CallbackQueryRecord
from .updates import UpdateQueue

CALLBACK_ANSWER_LIMIT = 200


class CallbackQueries(UpdateQueue):
    """A press queues a callback_query update; the bot must answer it once, briefly."""

    def callback_query(
        self, user_id: int, data: str | None, message_id: int | None
    ) -> CallbackQueryRecord:
        """Queue a ``callback_query`` update as if the user pressed a button."""
        user = self.users[user_id]
        chat = self.chat(user_id)
        number = next(self._callback_counter)
        query_id = f"{self.bot_id}{user_id}{number:06d}"
        payload: JSON = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": str(int(hashlib.sha1(str(user_id).encode()).hexdigest()[:15], 16)),
        }
        if message_id is not None:
            stored = chat.messages.get(message_id)
            if stored is not None:
                payload["message"] = stored.to_api()
            else:
                payload["message"] = {"chat": user.chat_api(), "message_id": message_id, "date": 0}
        if data is not None:
            payload["data"] = data
        record = CallbackQueryRecord(query_id, user_id, message_id, data)
        self.callback_queries[query_id] = record
        record.update_id = self.enqueue_update({"callback_query": payload})
        return record

    def _answer_callback_query(self, call: Call) -> bool:
        params = call.params
        record = self.callback_queries.get(params["callback_query_id"])
        if record is None or record.answered:
            raise bad_request(QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text", "")
        if utf16_len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request(
                f"MESSAGE_TOO_LONG (callback answer text is {utf16_len(text)} characters, "
                f"at most {CALLBACK_ANSWER_LIMIT})"
            )
        url = params.get("url")
        if url is not None and not re.match(r"^(?:https?://)?(?:t|telegram)\.me/", url):
            raise bad_request("URL_INVALID (only t.me links and game URLs are allowed)")
        record.answered = True
        record.answer = {
            k: params[k] for k in ("text", "show_alert", "url", "cache_time") if k in params
        }
        self._notify()
        return True
