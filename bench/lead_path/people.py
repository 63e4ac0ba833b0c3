"""What the people type: the leads (names, phones, companies, needs) and their updates."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from bench.lead_path.common import FIRST_LEAD_ID, SKIP, SOURCE

NAMES = ("Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Илья", "Ксения", "Лев")


COMPANIES = ("ООО «Ромашка»", "ИП Петров", "АО «Северсталь-Сервис»", "Кофейня на углу", SKIP)


FREE_NEEDS = (
    "Нужна CRM для отдела из 12 человек, сейчас всё в Excel",
    "Хотим перейти с amoCRM, нужна миграция данных",
)


@dataclass(frozen=True, slots=True)
class Lead:
    user_id: int
    first_name: str
    name: str
    phone: str
    """As typed, "+7 916 123-45-67"."""
    shares_contact: bool
    company: str
    need: str

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": "ru",
        }

    def texts(self) -> list[str]:
        """What the echo bot gets from this person: the same six texts."""
        return [
            f"/start {SOURCE}",
            "✅ Согласен(на)",
            self.name,
            self.phone,
            self.company,
            self.need,
        ]


def make_leads(
    rng: random.Random, first_index: int, number: int, products: Sequence[str]
) -> list[Lead]:
    """`number` distinct people with distinct phones (the same phone would be the same contact,
    and its open deal would take the request instead of a new deal)."""
    leads = []
    for index in range(first_index, first_index + number):
        first_name = rng.choice(NAMES)
        digits = f"{index:07d}"
        leads.append(
            Lead(
                user_id=FIRST_LEAD_ID + index,
                first_name=first_name,
                name=f"{first_name} {rng.choice(('Иванова', 'Смирнов', 'Кузнецова', 'Попов'))}",
                phone=f"+7 916 {digits[:3]}-{digits[3:5]}-{digits[5:]}",
                shares_contact=rng.random() < 0.5,
                company=rng.choice(COMPANIES),
                need=rng.choice([*products, *FREE_NEEDS]),
            )
        )
    return leads


class Updates:
    """Telegram-shaped update dicts with increasing ids."""

    def __init__(self) -> None:
        self._update_ids = count(1)
        self._message_ids = count(1_000_000)

    def text(self, lead: Lead, text: str) -> dict[str, Any]:
        message = self._message(lead)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def contact(self, lead: Lead) -> dict[str, Any]:
        message = self._message(lead)
        message["contact"] = {
            "phone_number": "".join(ch for ch in lead.phone if ch.isdigit()),
            "first_name": lead.first_name,
            "user_id": lead.user_id,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def button(self, lead: Lead, message: dict[str, Any], data: str) -> dict[str, Any]:
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": lead.user,
            "chat_instance": str(lead.user_id),
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def _message(self, lead: Lead) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": lead.user_id, "type": "private", "first_name": lead.first_name},
            "from": lead.user,
        }
