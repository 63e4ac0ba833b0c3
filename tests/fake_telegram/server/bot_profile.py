"""What the bot says about itself: getMe, command menus, descriptions, name, menu button."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import bad_request
from .records import JSON, Call
from .state import ServerState

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")


class BotProfile(ServerState):
    """The bot's profile, and the command menu each user sees, resolved like Telegram does."""

    def _get_me(self, call: Call) -> JSON:
        return dict(self.bot_user)

    def commands_for(self, user_id: int, language_code: str | None = None) -> list[JSON]:
        """The command menu a user sees in the private chat, resolved like Telegram does.

        Order: chat scope + language, chat scope, all_private_chats + language,
        all_private_chats, default + language, default; the first list that is set wins.
        ``language_code`` defaults to the user's (only its first two letters matter).
        """
        if language_code is None and user_id in self.users:
            language_code = self.users[user_id].language_code
        lang = (language_code or "")[:2].lower()
        scopes: list[tuple[Any, ...]] = [
            ("chat", user_id),
            ("all_private_chats",),
            ("default",),
        ]
        for scope in scopes:
            for code in ([lang] if lang else []) + [""]:
                commands = self.commands.get((scope, code))
                if commands:
                    return [dict(command) for command in commands]
        return []

    def _scope_key(self, scope: JSON | None) -> tuple[Any, ...]:
        if not scope:
            return ("default",)
        kind = scope["type"]
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = scope["chat_id"]
            if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            if not isinstance(chat_id, int) or chat_id not in self.users:
                raise bad_request(f"chat not found (command scope chat_id={chat_id!r})")
            if kind == "chat_member":
                return (kind, chat_id, scope["user_id"])
            return (kind, chat_id)
        return (kind,)

    def _language(self, call: Call) -> str:
        code: str = call.params.get("language_code", "")
        if code and not _LANGUAGE_RE.match(code):
            raise bad_request(f"invalid language code specified: {code!r} (two-letter ISO 639-1)")
        return code

    def _set_my_commands(self, call: Call) -> bool:
        commands: list[JSON] = call.params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands (at most 100)")
        seen: set[str] = set()
        for command in commands:
            name = command["command"]
            if not _COMMAND_RE.match(name):
                raise bad_request(
                    f"BOT_COMMAND_INVALID ({name!r}: 1-32 characters, only lowercase English "
                    "letters, digits and underscores)"
                )
            if name in seen:
                raise bad_request(f"BOT_COMMAND_INVALID (duplicate command {name!r})")
            seen.add(name)
            if not 1 <= len(command["description"].strip()) <= 256:
                raise bad_request(
                    f"BOT_COMMAND_DESCRIPTION_INVALID ({name!r}: description must be 1-256 "
                    "characters)"
                )
        key = (self._scope_key(call.params.get("scope")), self._language(call))
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, call: Call) -> list[JSON]:
        key = (self._scope_key(call.params.get("scope")), self._language(call))
        return [dict(command) for command in self.commands.get(key, [])]

    def _delete_my_commands(self, call: Call) -> bool:
        key = (self._scope_key(call.params.get("scope")), self._language(call))
        self.commands.pop(key, None)
        return True

    def _setting_setter(self, name: str, limit: int) -> Callable[[Call], bool]:
        def setter(call: Call) -> bool:
            value = call.params.get(name, "")
            if len(value) > limit:
                raise bad_request(f"{name} is too long (at most {limit} characters)")
            self.bot_settings[(name, self._language(call))] = value
            return True

        return setter

    def _setting_getter(self, name: str) -> Callable[[Call], JSON]:
        def getter(call: Call) -> JSON:
            value = self.bot_settings.get((name, self._language(call)))
            if value is None:
                value = self.bot_settings.get((name, ""), "")
            if name == "name" and not value:
                value = self.bot_user["first_name"]
            return {name: value}

        return getter

    def _set_chat_menu_button(self, call: Call) -> bool:
        chat_id = call.params.get("chat_id")
        if chat_id is not None:
            self._private_chat(chat_id, sending=False)
        self.bot_settings[("menu_button", chat_id)] = call.params.get(
            "menu_button", {"type": "default"}
        )
        return True

    def _get_chat_menu_button(self, call: Call) -> JSON:
        chat_id = call.params.get("chat_id")
        button = self.bot_settings.get(("menu_button", chat_id)) or self.bot_settings.get(
            ("menu_button", None), {"type": "commands"}
        )
        return dict(button)
