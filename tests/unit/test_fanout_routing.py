"""Which worker gets an update (WORKERS > 1): one person's updates always the same one, one
Telegram Business connection's always the same one."""

from __future__ import annotations

from bot.fanout.routing import worker_for


def _message(update_id: int, user_id: int, text: str = "hi") -> dict[str, object]:
    person = {"id": user_id, "is_bot": False, "first_name": "A"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": person,
            "text": text,
        },
    }


def test_one_persons_messages_and_presses_go_to_one_worker() -> None:
    press = {
        "update_id": 3,
        "callback_query": {
            "id": "q",
            "from": {"id": 1001, "is_bot": False, "first_name": "A"},
            "chat_instance": "c",
            "data": "x",
        },
    }
    workers = {worker_for(_message(1, 1001), 2), worker_for(_message(2, 1001, "b"), 2)}
    assert workers == {worker_for(press, 2)}


def test_people_are_spread_over_the_workers() -> None:
    chosen = [worker_for(_message(n, 1000 + n), 3) for n in range(30)]
    assert sorted(set(chosen)) == [0, 1, 2]
    assert all(chosen.count(index) == 10 for index in range(3))


def test_a_business_connections_updates_go_to_one_worker_whoever_writes() -> None:
    connection = {
        "update_id": 1,
        "business_connection": {
            "id": "conn-7",
            "user": {"id": 2002, "is_bot": False, "first_name": "M"},
            "user_chat_id": 2002,
            "date": 0,
            "is_enabled": True,
        },
    }
    client_writes = {
        "update_id": 2,
        "business_message": {
            "message_id": 5,
            "date": 0,
            "business_connection_id": "conn-7",
            "chat": {"id": 3003, "type": "private"},
            "from": {"id": 3003, "is_bot": False, "first_name": "C"},
            "text": "hello",
        },
    }
    manager_writes = {
        "update_id": 3,
        "business_message": {
            **client_writes["business_message"],  # type: ignore[dict-item]
            "from": {"id": 2002, "is_bot": False, "first_name": "M"},
        },
    }
    deleted = {
        "update_id": 4,
        "deleted_business_messages": {
            "business_connection_id": "conn-7",
            "chat": {"id": 3003, "type": "private"},
            "message_ids": [5],
        },
    }
    workers = {worker_for(update, 4) for update in (client_writes, manager_writes, deleted)}
    assert workers == {worker_for(connection, 4)}


def test_an_update_that_names_nobody_goes_to_the_first_worker() -> None:
    assert worker_for({"update_id": 9}, 2) == 0
    assert worker_for({"update_id": 9, "poll": {"id": "p", "question": "?"}}, 2) == 0
