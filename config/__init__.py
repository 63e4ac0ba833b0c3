"""Runtime configuration, read by every layer: the bot, the services' command-line tools,
the storage's Alembic environment and the benchmarks.

It sits outside `bot/` so that reading the settings never means importing the Telegram face
(services/ and storage/ import nothing from bot/)."""
