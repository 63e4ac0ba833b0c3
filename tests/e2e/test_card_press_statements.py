"""A card button press costs one write transaction, and the deal is read once: counted at the
database driver while a manager presses buttons on a real card ("confirm next stage", "back to
work" on a snoozed deal, the last qualification answer and the finished qualification)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bot.app import Application
from bot.telegram.callbacks import CardAction, DealCard
from storage.sqlite_in_loop import DirectStatement
from tests.e2e.scenario import deals, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
FSM_WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM) "?fsm_states"?\s', re.IGNORECASE)
READS_THE_DEAL = re.compile(r"FROM deals\s+WHERE deals\.id = ", re.IGNORECASE)


@dataclass
class Transaction:
    statements: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def writes(self) -> bool:
        return any(WRITE.match(statement) for statement in self.statements)


@contextmanager
def transactions_of(app: Application) -> Iterator[list[Transaction]]:
    """Every transaction the bot runs meanwhile, with its statements, in order: the engine's,
    and the conversation storage's own statements on SQLite (`DirectStatement`, one statement
    and its commit each, which the engine's events do not see)."""
    seen: list[Transaction] = []
    run_directly = DirectStatement.run

    async def direct(statement: DirectStatement, values: dict[str, Any]) -> None:
        await run_directly(statement, values)
        seen.append(Transaction([statement.sql], committed=True))

    current: dict[int, Transaction] = {}
    engine = app.engine.sync_engine

    def begin(connection: Any) -> None:
        current[id(connection)] = Transaction()
        seen.append(current[id(connection)])

    def statement(connection: Any, cursor: Any, text: str, *_: Any) -> None:
        transaction = current.get(id(connection))
        if transaction is None:  # a statement outside any transaction (a driver pragma)
            transaction = Transaction()
            seen.append(transaction)
        transaction.statements.append(text)

    def commit(connection: Any) -> None:
        current.pop(id(connection), Transaction()).committed = True

    def rollback(connection: Any) -> None:
        current.pop(id(connection), None)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("begin", begin),
        ("before_cursor_execute", statement),
        ("commit", commit),
        ("rollback", rollback),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    DirectStatement.run = direct  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        DirectStatement.run = run_directly  # type: ignore[method-assign]
        for name, listener in listeners:
            event.remove(engine, name, listener)


async def settled(tg: FakeTelegram, app: Application) -> None:
    """Nothing in flight before a window opens: the updates answered, what the setup's changes
    owed sent (the outbox: "a manager took your request"), and the other chats' cards shown
    again (`OpenCards`); all of it in the background, landing in whichever window is open."""
    await tg.settle()
    await app.sweeper.send_owed()
    await app.open_cards.finish(5)
    await tg.settle()


async def test_confirming_the_next_stage_is_one_write_transaction_reading_the_deal_once(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await open_card(tg, admin)
    await settled(tg, app)
    [deal] = await deals(app)
    stage = app.book.pipeline(deal.pipeline_id).stage(deal.stage_id)
    every_criterion = (1 << len(stage.exit_criteria)) - 1
    confirm = DealCard(deal_id=1, action=CardAction.CONFIRM_ADVANCE, ticked=every_criterion)

    with transactions_of(app) as seen:
        answer = await manager.press_data(confirm.pack())
        await tg.settle()

    assert answer is not None and "Сделка переведена" in (answer.text or "")
    assert_one_write_reading_the_deal_once(seen)
    [moved] = await deals(app)
    assert moved.stage_id != deal.stage_id


async def test_waking_a_snoozed_deal_is_one_write_transaction_reading_the_deal_once(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await open_card(tg, admin)
    await manager.press("💤 Отложить")
    await manager.wait_message(contains="До какой даты отложить сделку")
    await manager.send("до 10.06")
    await manager.wait_message(contains="Напишите и причину")
    await manager.send("клиент в отпуске до 10.06")
    snoozed = await manager.wait_message(contains="💤 Отложена до 10.06")
    await settled(tg, app)

    with transactions_of(app) as seen:
        answer = await manager.press("⏰ Вернуть в работу", message_id=snoozed.message_id)
        await tg.settle()

    assert answer.text
    assert_one_write_reading_the_deal_once(seen)
    [woken] = await deals(app)
    assert woken.snoozed_until is None


async def test_the_last_qualification_answer_and_the_finished_qualification_read_the_deal_once(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await open_card(tg, admin)
    [deal] = await deals(app)
    *first, last = app.book.framework_for(deal.pipeline_id).questions
    await manager.press("🎯 Квалификация")
    for question in first:
        await manager.wait_message(contains=question.text)
        await manager.press(max(question.options, key=lambda option: option.points).text)
    await manager.wait_message(contains=last.text)
    await settled(tg, app)

    with transactions_of(app) as answering:
        result = await manager.press(max(last.options, key=lambda option: option.points).text)
        await tg.settle()

    assert (result.text or "").startswith("Квалификация: SQL")
    assert_one_write_reading_the_deal_once(answering, conversation_ends=True)
    [qualified] = await deals(app)
    assert qualified.qualification_level == "sql"

    card = await manager.wait_message(contains="Квалификация: SQL")
    with transactions_of(app) as viewing:
        again = await manager.press("🎯 Квалификация", message_id=card.message_id)
        await tg.settle()

    assert (again.text or "").startswith("Квалификация: SQL")
    assert_one_write_reading_the_deal_once(viewing)  # the write: where the card is shown


async def open_card(tg: FakeTelegram, admin: FakeUser) -> FakeUser:
    """A manager with Anna's request taken and its card on screen."""
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    await manager.press("✅ Взять в работу")
    await manager.send("/deal 1")
    await manager.wait_message(contains="Сделка №1")
    return manager


def assert_one_write_reading_the_deal_once(
    seen: list[Transaction], *, conversation_ends: bool = False
) -> None:
    """One committed transaction writes; at most two statements read outside it; the deal is
    read once in all. A press that ends a conversation also deletes its state: aiogram's storage
    (bot/telegram/fsm_storage.py, or Redis with REDIS_URL) writes on its own connection, outside
    the update's unit of work."""
    if conversation_ends:
        [state_ended] = [
            t for t in seen if t.writes and all(FSM_WRITE.match(s) for s in t.statements)
        ]
        assert state_ended.committed
        seen = [t for t in seen if t is not state_ended]
    writing = [t for t in seen if t.writes]
    reading = [t for t in seen if not t.writes]
    assert len(writing) == 1 and writing[0].committed, [t.statements for t in writing]
    reads_outside = [s for t in reading for s in t.statements]
    assert len(reads_outside) <= 2, reads_outside
    every_statement = [s for t in seen for s in t.statements]
    assert sum(bool(READS_THE_DEAL.search(s)) for s in every_statement) == 1, every_statement
