"""The Mini App board: Telegram opens it inside the chat; the bot's web server serves its
static files and its JSON API."""
