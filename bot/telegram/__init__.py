"""Telegram plumbing under the routers: middlewares, sending, conversation storage, menus."""
