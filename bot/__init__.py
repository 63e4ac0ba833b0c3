"""The Telegram face of the bot.

The libraries every part of it stands on are loaded first, and their objects (hundreds of
thousands, alive as long as the process) are moved out of the cyclic collector's reach with
`gc.freeze()`. Otherwise every full collection walks them again for nothing: several times while
the bot's own modules load, and for the life of the process, a burst of leads included.
"""

import gc

import aiogram  # noqa: F401
import pydantic  # noqa: F401
import sqlalchemy.orm  # noqa: F401

gc.freeze()
