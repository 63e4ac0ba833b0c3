"""Tests of the fake Telegram server itself, with a plain aiogram Bot over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.fake_telegram import FakeTelegram, ScenarioError, load_spec, running_fake_telegram

TOKEN = "4242:TEST-fake-telegram"


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


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


# ----------------------------------------------------------------------- dialogs


async def test_echo_and_update_shape(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()
    seen: list[Message] = []

    @dp.message()
    async def echo(message: Message) -> None:
        seen.append(message)
        await message.answer(message.text or "?")

    anna = tg.user("Анна", language_code="ru")
    async with tg.polling(dp, bot):
        await anna.send("/start abc")
        reply = await anna.wait_message(exact="/start abc")
    async with tg.polling(dp, bot):  # a restarted bot: the old long poll must not linger (409)
        await anna.send("привет", reply_to=reply.message_id)
        assert (await anna.wait_message()).text == "привет"

    assert reply.kind == "text" and reply.chat_id == anna.id
    first = seen[0]
    assert first.from_user is not None and first.from_user.id == anna.id
    assert first.from_user.language_code == "ru" and not first.from_user.is_bot
    assert first.chat.type == "private" and first.chat.username == anna.username
    assert first.entities is not None and first.entities[0].type == "bot_command"
    assert [m.message_id for m in seen] == [1, 3]  # ids are shared with the bot's messages
    assert seen[1].reply_to_message is not None
    assert seen[1].reply_to_message.message_id == reply.message_id
    assert [m.text for m in anna.messages] == ["/start abc", "привет"]
    assert [c.method for c in anna.history] == ["sendMessage", "sendMessage"]
    assert tg.calls[0].method == "getMe"


async def test_button_press_roundtrip(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "Условия: <b>читать</b>",
            parse_mode="HTML",
            reply_markup=keyboard([("Согласен", "agree"), ("Нет", "no")]),
        )

    @dp.callback_query(F.data == "agree")
    async def agree(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Принято")
        await query.answer("Спасибо!")

    @dp.callback_query()
    async def other(query: CallbackQuery) -> None:
        await query.answer("Неизвестная кнопка", show_alert=True)

    anna = tg.user("Анна")
    async with tg.polling(dp, bot):
        await anna.send("/start")
        terms = await anna.wait_message(contains="Условия")
        assert terms.text == "Условия: читать"
        assert terms.entities == ({"type": "bold", "offset": 9, "length": 6},)
        assert terms.buttons == [[("Согласен", "agree"), ("Нет", "no")]]
        answer = await anna.press("Согласен")
        assert answer.text == "Спасибо!" and not answer.show_alert
        edited = await anna.wait_message(contains="Принято")
        assert edited.message_id == terms.message_id and edited.edited
        assert edited.inline_keyboard == ()  # edit without reply_markup drops the keyboard
        forged = await anna.press_data("forged:1", message_id=999)
        assert forged is not None and forged.show_alert
        with pytest.raises(ScenarioError, match="inline button 'Согласен'"):
            await anna.press("Согласен", timeout=0.1)
        await anna.expect_no_message(within=0.05)


async def test_reply_keyboard_contact_and_sticker(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()
    contacts: list[Message] = []

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        markup = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Поделиться контактом", request_contact=True)]],
            resize_keyboard=True,
        )
        await message.answer("Нужен телефон", reply_markup=markup)

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        contacts.append(message)
        await message.answer("Спасибо", reply_markup=ReplyKeyboardRemove())

    anna = tg.user("Анна", phone="+79161234567")
    async with tg.polling(dp, bot):
        await anna.send("/start")
        ask = await anna.wait_message(contains="телефон")
        assert ask.reply_buttons == [["Поделиться контактом"]]
        assert anna.reply_keyboard == [["Поделиться контактом"]]
        await anna.tap_reply_button("Поделиться")
        await anna.wait_message(exact="Спасибо")
        assert anna.reply_keyboard is None
        await anna.send_sticker()
        await tg.settle()
        await anna.expect_no_message(within=0.05)

    assert contacts[0].contact is not None
    assert contacts[0].contact.user_id == anna.id
    assert contacts[0].contact.phone_number == "+79161234567"


async def test_offset_confirmation_and_long_polling(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    await anna.send("one")
    await anna.send("two")
    first = await bot.get_updates(timeout=0)
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == [u.update_id for u in again] == [1, 2]
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == []

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=3, timeout=10))
    await tg.wait_for(lambda: tg.poll_count >= 4 or None)
    await anna.send("three")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["three"]

    # A dispatcher does not see a confirmed update twice.
    dp = Dispatcher()
    texts: list[str] = []

    @dp.message()
    async def record(message: Message) -> None:
        texts.append(message.text or "")

    async with tg.polling(dp, bot):
        await tg.settle()
        await anna.send("four")
        await tg.settle()
    assert texts == ["three", "four"]  # "three" was delivered but never confirmed


async def test_concurrent_get_updates_conflict(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for(lambda: tg.poll_count >= 1 or None)
    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert len(tg.take_violations()) == 1


async def test_settle_waits_for_slow_handler(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def slow(message: Message) -> None:
        await message.answer("думаю")
        await asyncio.sleep(0.3)  # longer than settle's quiet period: the task is tracked
        await message.answer("готово")

    anna = tg.user("Анна")
    async with tg.polling(dp, bot):
        await anna.send("?")
        await tg.settle()
        assert [m.text for m in anna.messages] == ["думаю", "готово"]
        assert (await anna.wait_message()).text == "думаю"
        assert (await anna.wait_message()).text == "готово"
        await anna.expect_no_message(within=0.01)


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


# ------------------------------------------------------------------------ state


async def test_set_my_commands_scope_resolution(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна", language_code="ru")
    john = tg.user("John", language_code="en-US")
    boss = tg.user("Босс", language_code="ru")
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    assert await anna.commands() == [("start", "Начать")]
    assert await john.commands() == [("start", "Start")]
    await bot.set_my_commands(
        [BotCommand(command="help", description="Помощь")],
        scope=BotCommandScopeAllPrivateChats(),
    )
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Админка")],
        scope=BotCommandScopeChat(chat_id=boss.id),
    )
    assert await anna.commands() == [("help", "Помощь")]  # beats default+language
    assert await john.commands() == [("help", "Помощь")]
    assert await boss.commands() == [("admin", "Админка")]
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start"]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=anna.id)) == []
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert await anna.commands() == [("start", "Начать")]
    await bot.set_my_commands([], scope=BotCommandScopeDefault(), language_code="ru")
    assert await anna.commands() == [("start", "Start")]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(
            [BotCommand(command="x", description="x")], scope=BotCommandScopeChat(chat_id=1)
        )
    assert len(tg.take_violations()) == 2


async def test_blocked_user_and_injected_errors(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    shy = tg.user("Тихий", started=False)
    tg.block(anna.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(anna.id, "hi")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(shy.id, "hi")
    tg.unblock(anna.id)
    tg.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(anna.id, "hi")
    assert caught.value.retry_after == 7
    await bot.send_message(anna.id, "hi")
    assert tg.violations == []
    assert [c.status for c in anna.history] == [403, 429, 200]


async def test_edit_and_delete(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    sent = await bot.send_message(
        anna.id, "<b>Меню</b>", parse_mode="HTML", reply_markup=keyboard([("A", "a")])
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>Меню</b>",
            chat_id=anna.id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard([("A", "a")]),
        )
    await bot.edit_message_text(
        "Меню", chat_id=anna.id, message_id=sent.message_id, reply_markup=keyboard([("A", "a")])
    )  # entities differ
    await bot.edit_message_reply_markup(
        chat_id=anna.id, message_id=sent.message_id, reply_markup=keyboard([("B", "b")])
    )
    assert anna.last_message.buttons == [[("B", "b")]]
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=anna.id, message_id=sent.message_id, reply_markup=keyboard([("B", "b")])
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=anna.id, message_id=999)
    await bot.delete_message(anna.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(anna.id, sent.message_id)
    assert anna.messages == []
    assert len(tg.take_violations()) == 4


async def test_media_copy_and_forward(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user("Анна")
    manager = tg.user("Менеджер")
    photo = BufferedInputFile(b"\xff\xd8\xff fake jpeg", filename="p.jpg")
    sent = await bot.send_photo(anna.id, photo, caption="<i>Фото</i>", parse_mode="HTML")
    assert sent.photo and sent.caption == "Фото"
    upload = tg.calls[-1].files
    assert [f.data for f in upload.values()] == [b"\xff\xd8\xff fake jpeg"]
    again = await bot.send_photo(manager.id, sent.photo[-1].file_id)
    assert again.photo and again.photo[-1].file_id == sent.photo[-1].file_id
    doc = await bot.send_document(anna.id, BufferedInputFile(b"%PDF", filename="offer.pdf"))
    assert doc.document is not None and doc.document.file_name == "offer.pdf"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(anna.id, "no-such-file-id")
    tg.take_violations()

    lead = await anna.send("Хочу купить 10 штук")
    copied = await bot.copy_message(manager.id, anna.id, lead)
    forwarded = await bot.forward_message(manager.id, anna.id, lead)
    assert forwarded.forward_origin is not None
    texts = [(m.message_id, m.text) for m in manager.messages]
    assert texts[-2:] == [
        (copied.message_id, "Хочу купить 10 штук"),
        (forwarded.message_id, "Хочу купить 10 штук"),
    ]
    await bot.send_chat_action(anna.id, "typing")
    assert anna.chat_actions == ["typing"]
    file = await bot.get_file(doc.document.file_id)
    assert file.file_path is not None


def test_bundled_spec_is_consistent() -> None:
    spec = load_spec()
    assert spec.find_method("SENDMESSAGE") is spec.methods["sendMessage"]
    assert spec.types["BotCommandScopeChat"].discriminator == ("type", "chat")
    assert {"getUpdates", "sendMessage", "answerCallbackQuery"} <= set(spec.methods)
