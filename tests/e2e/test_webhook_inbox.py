"""Behind a webhook Telegram delivers an update again when it got no 2xx in time, maybe to
another instance: the same update_id files one request and answers once, whether the copies
come one after the other or at the same moment on two instances."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey

from config.settings import Settings
from domain.clock import FixedClock
from tests.db import BACKENDS, fresh_database
from tests.e2e.scenario import deals, leave_request
from tests.e2e.webhook_bots import Instance, webhook_instances
from tests.fake_telegram import FakeTelegram


def messages_to(tg: FakeTelegram, chat_id: int) -> int:
    return len(tg.calls_to("sendMessage", chat_id=chat_id))


def the_same_message_later(tg: FakeTelegram, update: dict[str, Any], text: str) -> dict[str, Any]:
    """A new update from the same person (what Telegram would deliver next)."""
    message = {**update["message"], "text": text, "message_id": update["message"]["message_id"] + 1}
    message.pop("entities", None)
    return {"update_id": update["update_id"] + 1000, "message": message}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_one_update_delivered_twice_in_a_row_and_at_once_has_its_effect_once(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, tmp_path: Path, backend: str
) -> None:
    async with (
        fresh_database(backend, tmp_path) as url,
        webhook_instances(
            tg, settings.model_copy(update={"database_url": url}), clock, count=2
        ) as (first, second),
    ):
        anna = tg.user("Анна")
        await leave_request(anna, need="Внедрение CRM под ключ")
        await tg.settle()
        filing = tg.deliveries[-1]
        assert filing.ok and filing.chat_id == anna.id
        answers = messages_to(tg, anna.id)
        assert len(await deals(first.application)) == 1

        # Telegram did not get the 2xx in time and delivers it again, to the other instance.
        assert await tg.post_webhook(filing.update, via=second.url) == 200
        await tg.settle()
        assert len(await deals(first.application)) == 1
        assert messages_to(tg, anna.id) == answers

        # Boris's request reaches both instances at the same moment.
        boris = tg.user("Борис")
        await boris.send("/start ads_vk")
        await boris.press("✅ Согласен(на)")
        await boris.wait_message(contains="Как к вам обращаться")
        await boris.send("Борис")
        await boris.wait_message(contains="Ваш телефон")
        await boris.send("+7 916 765-43-21")
        await boris.wait_message(contains="компания")
        await boris.send("Пропустить")
        await boris.wait_message(contains="Что вас интересует")
        await tg.settle()
        asked = tg.deliveries[-1].update
        last = the_same_message_later(tg, asked, "Аудит отдела продаж")
        statuses = await asyncio.gather(
            tg.post_webhook(last, via=first.url), tg.post_webhook(last, via=second.url)
        )
        assert list(statuses) == [200, 200]
        await tg.settle()
        requests = await deals(first.application)
        assert len(requests) == 2
        thanks = [
            call
            for call in tg.calls_to("sendMessage", chat_id=boris.id)
            if "Спасибо" in call.params["text"]
        ]
        assert len(thanks) == 1


def asked(tg: FakeTelegram, chat_id: int, question: str) -> int:
    return sum(
        question in call.params["text"] for call in tg.calls_to("sendMessage", chat_id=chat_id)
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_form_step_delivered_again_is_answered_with_its_question_not_read_twice(
    tg: FakeTelegram, settings: Settings, clock: FixedClock, tmp_path: Path, backend: str
) -> None:
    """An instance killed after a step's commit (the consent) or after its state moved on (a
    typed answer) gives no answer; Telegram delivers the update again, and the bot finds it
    handled: the lead gets the question that step owed, and the answer is not
    read again as the answer to the next question."""
    async with (
        fresh_database(backend, tmp_path) as url,
        webhook_instances(
            tg, settings.model_copy(update={"database_url": url}), clock, count=1
        ) as (first,),
    ):
        anna = tg.user("Анна")
        await anna.send("/start ads_vk")
        await anna.press("✅ Согласен(на)")
        await anna.wait_message(contains="Как к вам обращаться")
        await tg.settle()
        consent = tg.deliveries[-1]
        assert consent.ok and "callback_query" in consent.update
        assert await tg.post_webhook(consent.update, via=first.url) == 200
        await tg.settle()
        assert asked(tg, anna.id, "Как к вам обращаться") == 2

        await anna.send("Анна")
        await anna.wait_message(contains="Ваш телефон")
        await tg.settle()
        name = tg.deliveries[-1]
        assert await tg.post_webhook(name.update, via=first.url) == 200
        await tg.settle()
        assert asked(tg, anna.id, "Ваш телефон") == 2
        assert not [m for m in anna.messages if "Не похоже на номер" in m.text]

        # The form goes on from where it stands, on either instance.
        await anna.send("+7 916 123-45-67")
        await anna.wait_message(contains="компания")
        await anna.send("Пропустить")
        await anna.wait_message(contains="Что вас интересует")
        asking = await form_state(first, anna.id)
        await anna.send("Внедрение CRM под ключ")
        await anna.wait_message(contains="Заявка №1 принята")
        await tg.settle()
        filing = tg.deliveries[-1]
        # As if its bot was killed right after the filing's commit, before the form was closed:
        # the form still asks the last question when Telegram delivers the answer again.
        state, data = asking
        storage = first.application.dispatcher.storage
        await storage.set_state(conversation(first, anna.id), state)
        await storage.set_data(conversation(first, anna.id), data)
        assert await tg.post_webhook(filing.update, via=first.url) == 200
        await tg.settle()
        assert await form_state(first, anna.id) == (None, {})
        assert len(await deals(first.application)) == 1
        assert sum("Заявка №1 принята" in m.text for m in anna.messages) == 1


def conversation(instance: Instance, user_id: int) -> StorageKey:
    bot_id = instance.application.bot.id
    return StorageKey(bot_id=bot_id, chat_id=user_id, user_id=user_id)


async def form_state(instance: Instance, user_id: int) -> tuple[str | None, dict[str, Any]]:
    storage = instance.application.dispatcher.storage
    key = conversation(instance, user_id)
    return await storage.get_state(key), await storage.get_data(key)
