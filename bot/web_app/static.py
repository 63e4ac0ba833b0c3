"""The board's files: plain HTML, CSS and JS, no build step, served at /app/."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"


async def _index(request: web.Request) -> web.FileResponse:
    # Never cached: a new release's page must reach phones that opened the old one.
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def add_static_routes(app: web.Application) -> None:
    app.router.add_get("/app/", _index)
    app.router.add_static("/app/static/", STATIC_DIR)
