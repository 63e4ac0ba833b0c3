"""The update queue: what users do becomes updates, and the bot fetches them.

getUpdates: ``offset`` > 0 confirms (forgets) every update with a smaller id, exactly like
Telegram; a negative offset is simplified to "keep only the last -offset pending updates".
``timeout`` long-polls (returns as soon as an update is queued).  A second concurrent
getUpdates makes the first one fail with 409 Conflict (a violation: two pollers), and an
update whose type is not in the last ``allowed_updates`` is dropped when it is queued.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .errors import ApiError
from .records import JSON, Call, StoredMessage
from .state import DEFAULT_UPDATE_TYPES, ServerState


class UpdateQueue(ServerState):
    """Queues updates (a user's message...) and hands them out by getUpdates or webhook state."""

    def enqueue_update(self, payload: JSON) -> int | None:
        """Queue an update (``update_id`` is assigned); None if ``allowed_updates`` drops it."""
        update_type = next(iter(payload))
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        if update_type not in self.allowed_updates:
            self.dropped_updates.append(update)
            self._notify()
            return None
        self._self_check(update, ("Update",), "update")
        self.pending_updates.append(update)
        self._notify()
        return int(update["update_id"])

    def user_message(self, user_id: int, kind: str, **fields: Any) -> StoredMessage:
        """Store a message from the user in their chat and queue a ``message`` update.

        ``fields`` are the Message content fields (``text``/``entities``, ``contact``,
        ``sticker``, ``photo``/``caption``...); ``reply_to_message_id`` is resolved.
        """
        user = self.users[user_id]
        user.started = True
        self.blocked.discard(user_id)
        chat = self.chat(user_id)
        reply_to_id = fields.pop("reply_to_message_id", None)
        text = fields.pop("text", None)
        if text is None:
            text = fields.pop("caption", None)
        entities = fields.pop("entities", None) or fields.pop("caption_entities", None) or []
        message = self._new_message(
            chat,
            from_bot=False,
            sender=user.to_api(),
            kind=kind,
            text=text,
            entities=entities,
            content=fields,
        )
        if reply_to_id is not None and reply_to_id in chat.messages:
            message.reply_to = chat.messages[reply_to_id].to_api(nested=True)
        self.enqueue_update({"message": message.to_api()})
        return message

    def revoke_token(self, new_token: str) -> None:
        """A new token made in @BotFather: every call with the old one is answered 401
        Unauthorized, a long poll already waiting included."""
        self.token = new_token
        self._notify()

    async def _get_updates(self, call: Call) -> list[JSON]:
        params = call.params
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self._poll_count += 1
        self._poll_generation += 1
        generation = self._poll_generation
        token = self.token
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        offset = params.get("offset", 0)
        if offset > 0:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        elif offset < 0:
            # Simplified: keep only the last -offset updates, forget the earlier ones.
            self.pending_updates = self.pending_updates[offset:]
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.pending_updates and not self._stopping:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.wait_change(remaining)
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
        batch = self.pending_updates[:limit]
        if batch:
            self._delivered_upto = max(self._delivered_upto, batch[-1]["update_id"])
            self._delivery_poll = self._poll_count
            self._touch()
        return batch
