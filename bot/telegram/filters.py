"""Router filters on the role the `ActorMiddleware` resolved for this update."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from domain.roles import Role
from services.staff import Actor


class HasRole(Filter):
    def __init__(self, *roles: Role) -> None:
        self._roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, actor: Actor | None = None, **_: Any) -> bool:
        return actor is not None and actor.role in self._roles


STAFF_ROLES = (Role.MANAGER, Role.SUPERVISOR, Role.ADMIN)
