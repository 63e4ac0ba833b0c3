"""What every part of the burst benchmark shares: ids, the form's steps and texts, its error."""

from __future__ import annotations

import re

ADMIN_ID = 1_000


FIRST_MANAGER_ID = 2_000


FIRST_LEAD_ID = 7_000_000_000


SOURCE = "ads_vk"


STEPS = ("start", "consent", "name", "phone", "company", "need")


CONSENT_ANSWERED = "consent: button answered"
"""Not a step of its own: how long the consent button's spinner turned (answerCallbackQuery),
reported beside the steps for the bot (for the echo bot it *is* the consent step's reply)."""


BOTS = ("echo", "lead")


# What a person sees at each step (the ru locale, bot/locales/ru/LC_MESSAGES/messages.po).
ACCEPT = "✅ Согласен(на)"
ASK_NAME = "Как к вам обращаться"
ASK_PHONE = "Ваш телефон"
ASK_COMPANY = "Как называется ваша компания"
ASK_NEED = "Что вас интересует"
SKIP = "Пропустить"
CONFIRMED = re.compile(r"Заявка №(\d+) принята")
CARD = re.compile(r"Новая заявка №(\d+)")
INVITE_LINK = re.compile(r"https://t\.me/\w+\?start=(inv_[A-Za-z0-9_-]+)")


class BenchError(Exception):
    """The benchmark could not run (the bot did not start, the setup failed)."""
