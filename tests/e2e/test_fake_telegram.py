"""Tests of the fake Telegram server itself, with a plain aiogram Bot over real HTTP: dialogs
and the state it keeps. What it refuses: test_fake_telegram_limits.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.e2e.bare_bot import TOKEN, keyboard
from tests.fake_telegram import FakeTelegram, ScenarioError, load_spec, running_fake_telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with running_fake_telegram(TOKEN, default_timeout=3.0) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = tg.make_bot()
    yield bot
    await bot.session.close()


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
