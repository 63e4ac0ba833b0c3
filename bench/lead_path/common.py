"""What every part of the lead path benchmark shares: the fixed ids, a lead's steps, its error.

The project (bot, domain, services, storage) is imported by the lead worker only, so the echo
worker's memory is aiogram's: no module of this package imports it at the top.
"""

from __future__ import annotations

import datetime as dt

TOKEN = "123456789:AAbench-token-not-a-real-one-0123456"


BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Отдел продаж", "username": "bench_bot"}


ADMIN_ID = 1_000


MANAGER_ID = 2_000


FIRST_LEAD_ID = 7_000_000_000


MONDAY_10_MSK = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


SOURCE = "ads_vk"


STEPS = ("start", "consent", "name", "phone", "company", "need")


CONFIRMED = "Заявка №"


SKIP = "Пропустить"


BOTS = ("echo", "lead")


class BenchError(Exception):
    """The benchmark did not exercise the path it claims to measure."""
