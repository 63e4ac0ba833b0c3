"""The Telegram face of the bot.

The libraries every part of it stands on are loaded first, and their objects (hundreds of
thousands, alive as long as the process) are moved out of the cyclic collector's reach with
`gc.freeze()`. Otherwise every full collection walks them again for nothing: several times while
the bot's own modules load, and for the life of the process, a burst of leads included.

The youngest generation is collected after 50,000 new container objects instead of CPython's 700.
An update builds thousands of short-lived ones (pydantic models, aiohttp's requests and answers,
SQLAlchemy's rows), nearly all freed by reference counting before any collection could matter;
at 700 the collector kept walking the survivors of the last few. Over HTTP in the ad burst this
bought about a sixth more updates a second (`bench/RESULTS.md`, "The collector's young
generation"); in-process, where no aiohttp objects are made, a few per cent.
"""

import gc

import aiogram  # noqa: F401
import pydantic  # noqa: F401
import sqlalchemy.orm  # noqa: F401

YOUNG_GENERATION_THRESHOLD = 50_000

gc.freeze()
gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
