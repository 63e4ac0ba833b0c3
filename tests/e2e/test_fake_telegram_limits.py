"""The fake Telegram refuses what real Telegram refuses: bad formatting, texts and keyboards over
the limits, parameters the spec does not list, a wrong token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
)

from tests.e2e.bare_bot import TOKEN, keyboard
from tests.fake_telegram import FakeTelegram, running_fake_telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with running_fake_telegram(TOKEN, default_timeout=3.0) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = tg.make_bot()
    yield bot
    await bot.session.close()


async def raw_call(tg: FakeTelegram, method: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    """POST form fields like aiogram does (non-strings JSON-encoded)."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{tg.base_url}/bot{tg.token}/{method}", data=form) as response,
    ):
        return response.status, await response.json()


# ------------------------------------------------------------------------ limits


async def test_html_parse_mode(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    sent = await bot.send_message(anna.id, "<b>ok</b> &lt;3 &amp; &#128512;", parse_mode="HTML")
    assert sent.text == "ok <3 & 😀"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(anna.id, "<x>nope</x>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(anna.id, "Tom & Jerry", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(anna.id, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unmatched end tag"):
        await bot.send_message(anna.id, "<b><i>x</b></i>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="is reserved"):
        await bot.send_message(anna.id, "Цена 1.5", parse_mode="MarkdownV2")
    violations = tg.take_violations()
    assert len(violations) == 5
    assert all("can't parse entities" in v for v in violations)
    assert [m.text for m in anna.messages] == ["ok <3 & 😀"]


async def test_text_and_caption_limits(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    await bot.send_message(anna.id, "a" * 4096)
    await bot.send_message(anna.id, "<b>" + "я" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(anna.id, "😀" * 2048)  # 4096 UTF-16 code units
    for text in ("a" * 4097, "😀" * 2049, "   "):
        with pytest.raises(TelegramBadRequest, match=r"too long|text is empty"):
            await bot.send_message(anna.id, text)
    photo = BufferedInputFile(b"\xff\xd8\xff fake jpeg", filename="p.jpg")
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(anna.id, photo, caption="c" * 1025)
    assert len(tg.take_violations()) == 4


async def test_keyboard_limits(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    await bot.send_message(anna.id, "ok", reply_markup=keyboard([("x", "d" * 64)]))
    for data in ("d" * 65, "я" * 33):  # 65 and 66 bytes
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(anna.id, "no", reply_markup=keyboard([("x", data)]))
    with pytest.raises(TelegramBadRequest, match="non-empty"):
        await bot.send_message(anna.id, "no", reply_markup=keyboard([("", "d")]))
    text_only = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(anna.id, "no", reply_markup=text_only)
    assert len(tg.take_violations()) == 4


async def test_callback_answer_limits(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    await bot.send_message(anna.id, "menu", reply_markup=keyboard([("x", "x")]))
    pressed = asyncio.create_task(anna.press("x", timeout=2))
    query_id = (await bot.get_updates(timeout=2))[0].callback_query.id  # type: ignore[union-attr]
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="t" * 201)
    await bot.answer_callback_query(query_id, text="t" * 200)
    assert (await pressed).text == "t" * 200
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    assert len(tg.take_violations()) == 2


async def test_spec_validation(tg: FakeTelegram) -> None:
    anna = tg.user("Анна")
    status, body = await raw_call(tg, "sendMessage", chat_id=anna.id, text="hi", foo="bar")
    assert (status, body["ok"]) == (400, False)
    assert 'unknown parameter "foo"' in body["description"]
    status, body = await raw_call(tg, "sendMessage", text="hi")
    assert status == 400 and body["description"].startswith("Bad Request: chat_id is empty")
    status, body = await raw_call(
        tg, "sendMessage", chat_id=anna.id, text="hi", disable_notification="maybe"
    )
    assert status == 400 and "must be Boolean" in body["description"]
    status, body = await raw_call(
        tg, "sendMessage", chat_id=anna.id, text="hi", reply_markup={"inline_keyboard": "x"}
    )
    assert status == 400 and "inline_keyboard" in body["description"]
    bad_button = {"inline_keyboard": [[{"text": "x", "callback_data": "y", "colour": 1}]]}
    status, body = await raw_call(
        tg, "sendMessage", chat_id=anna.id, text="hi", reply_markup=bad_button
    )
    assert status == 400 and 'unknown field "colour" in InlineKeyboardButton' in body["description"]
    status, body = await raw_call(tg, "sendMessage", chat_id="@nobody", text="hi")
    assert status == 400 and body["description"] == "Bad Request: chat not found"
    status, body = await raw_call(tg, "sendMesage", chat_id=anna.id, text="hi")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert len(tg.take_violations()) == 7
    # Method names are case-insensitive; typed JSON bodies work too.
    status, body = await raw_call(tg, "sendmessage", chat_id=anna.id, text="ok")
    assert status == 200 and body["result"]["text"] == "ok"
    assert tg.calls[-1].params == {"chat_id": anna.id, "text": "ok"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{tg.base_url}/bot{tg.token}/sendMessage",
            json={"chat_id": anna.id, "text": "json", "reply_markup": {"inline_keyboard": 1}},
        ) as response,
    ):
        assert response.status == 400
    assert len(tg.take_violations()) == 1


async def test_default_bot_properties_speak_todays_bot_api(tg: FakeTelegram) -> None:
    anna = tg.user("Анна")
    defaults = DefaultBotProperties(
        parse_mode="HTML", link_preview=LinkPreviewOptions(is_disabled=True)
    )
    async with tg.make_bot(default=defaults) as bot:
        sent = await bot.send_message(anna.id, "<i>x</i> https://example.com")
        await sent.reply("ответ")
    assert sent.entities is not None and sent.entities[0].type == "italic"
    first, reply = tg.calls[-2:]
    assert first.params["link_preview_options"] == {"is_disabled": True}
    assert "disable_web_page_preview" not in first.params
    assert reply.params["reply_parameters"]["message_id"] == sent.message_id
    assert not {"reply_to_message_id", "allow_sending_without_reply"} & set(reply.params)


async def test_aiogram_link_preview_is_disabled_is_caught_sending_a_legacy_parameter(
    tg: FakeTelegram,
) -> None:
    anna = tg.user("Анна")
    async with tg.make_bot(default=DefaultBotProperties(link_preview_is_disabled=True)) as bot:
        with pytest.raises(
            TelegramBadRequest, match='unknown parameter "disable_web_page_preview"'
        ):
            await bot.send_message(anna.id, "https://example.com")
    assert len(tg.take_violations()) == 1


@pytest.mark.parametrize(
    ("legacy", "value"),
    [
        ("disable_web_page_preview", True),
        ("reply_to_message_id", 1),
        ("allow_sending_without_reply", True),
    ],
)
async def test_parameters_the_bot_api_no_longer_lists_are_refused(
    tg: FakeTelegram, legacy: str, value: object
) -> None:
    """Telegram still accepts them, but a bot that sends them speaks yesterday's API."""
    anna = tg.user("Анна")
    status, body = await raw_call(tg, "sendMessage", chat_id=anna.id, text="hi", **{legacy: value})
    assert status == 400
    assert f'unknown parameter "{legacy}" for method sendMessage' in body["description"]
    assert len(tg.take_violations()) == 1


async def test_wrong_token(tg: FakeTelegram) -> None:
    async with Bot("1:wrong", session=tg.make_session()) as other:
        with pytest.raises(TelegramUnauthorizedError):
            await other.get_me()
