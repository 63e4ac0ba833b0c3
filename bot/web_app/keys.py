"""What the web server's handlers find on the app and on a request."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import Application
    from services.staff import Actor

APPLICATION: web.AppKey[Application] = web.AppKey("application")
ACTOR: web.RequestKey[Actor] = web.RequestKey("actor")
CARD_REFRESHES: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("card_refreshes")
"""Chat cards being brought up to date after a change in the app (bot/web_app/api.py)."""
