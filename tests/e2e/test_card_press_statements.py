"""A card button press costs one write transaction, and the deal is read once: counted at the
database driver while a manager presses "confirm next stage" on a real card."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bot.app import Application
from bot.telegram.callbacks import CardAction, DealCard
from tests.e2e.scenario import deals, join_team, leave_request
from tests.fake_telegram import FakeTelegram, FakeUser

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
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
    """Every transaction the bot runs meanwhile, with its statements, in order."""
    seen: list[Transaction] = []
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
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


async def test_confirming_the_next_stage_is_one_write_transaction_reading_the_deal_once(
    tg: FakeTelegram, app: Application, admin: FakeUser
) -> None:
    manager = await join_team(tg, admin, "Менеджер", "Иван")
    await leave_request(tg.user("Анна"))
    await manager.press("✅ Взять в работу")
    await manager.send("/deal 1")
    await manager.wait_message(contains="Сделка №1")
    await tg.settle()
    [deal] = await deals(app)
    stage = app.book.pipeline(deal.pipeline_id).stage(deal.stage_id)
    every_criterion = (1 << len(stage.exit_criteria)) - 1
    confirm = DealCard(deal_id=1, action=CardAction.CONFIRM_ADVANCE, ticked=every_criterion)

    with transactions_of(app) as seen:
        answer = await manager.press_data(confirm.pack())
        await tg.settle()

    assert answer is not None and "Сделка переведена" in (answer.text or "")
    writing = [t for t in seen if t.writes]
    reading = [t for t in seen if not t.writes]
    assert len(writing) == 1 and writing[0].committed, [t.statements for t in writing]
    reads_outside = [s for t in reading for s in t.statements]
    assert len(reads_outside) <= 2, reads_outside
    every_statement = [s for t in seen for s in t.statements]
    assert sum(bool(READS_THE_DEAL.search(s)) for s in every_statement) == 1, every_statement
    [moved] = await deals(app)
    assert moved.stage_id != deal.stage_id
