"""The private chat itself: getChat and the "typing..." chat actions."""

from __future__ import annotations

from .errors import bad_request
from .records import JSON, Call
from .state import ServerState

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


class ChatInfo(ServerState):
    """A private chat with a simulated user, as the bot may look at it."""

    def _get_chat(self, call: Call) -> JSON:
        _, user = self._private_chat(call.params["chat_id"], sending=False)
        return {
            **user.chat_api(),
            "accent_color_id": user.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _send_chat_action(self, call: Call) -> bool:
        chat, _ = self._private_chat(call.params["chat_id"])
        action = call.params["action"]
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(action)
        self._notify()
        return True
