"""What the web server's handlers find on the app and on a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import Application
    from services.staff import Actor

APPLICATION: web.AppKey[Application] = web.AppKey("application")
ACTOR: web.RequestKey[Actor] = web.RequestKey("actor")
