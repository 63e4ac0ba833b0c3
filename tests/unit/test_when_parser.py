from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.when_parser import ImpossibleDate, parse_when

MOSCOW = ZoneInfo("Europe/Moscow")
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=MOSCOW)
DAY_START = dt.time(9, 0)


@pytest.mark.parametrize(
    ("text", "at", "rest"),
    [
        ("перезвонить завтра в 11", "03.03.2026 11:00", "перезвонить"),
        ("напомни 25.05 в 10:30", "25.05.2026 10:30", ""),
        ("25.05 в 10:30 отправить КП", "25.05.2026 10:30", "отправить КП"),
        ("через 2 часа", "02.03.2026 12:00", ""),
        # Hours and minutes without a figure: from now, not the working day's start (it said
        # "это время уже прошло (09:00)").
        ("перезвонить через час", "02.03.2026 11:00", "перезвонить"),
        ("через полчаса", "02.03.2026 10:30", ""),
        ("через пару часов", "02.03.2026 12:00", ""),
        ("через полтора часа написать", "02.03.2026 11:30", "написать"),
        ("через 15 мин", "02.03.2026 10:15", ""),
        ("in an hour", "02.03.2026 11:00", ""),
        # An hour with its part of the day; a part of the day alone (it was 06:00 tomorrow,
        # "вечера" left in the text; "вечером" at 09:00).
        ("в 6 вечера позвонить", "02.03.2026 18:00", "позвонить"),
        ("в 3 дня", "02.03.2026 15:00", ""),
        ("через 3 дня", "05.03.2026 10:00", ""),  # three days, not three o'clock
        ("в понедельник в 10 утра", "09.03.2026 10:00", ""),
        ("в 12 ночи", "03.03.2026 00:00", ""),
        ("завтра вечером отправить КП", "03.03.2026 18:00", "отправить КП"),
        ("завтра в обед", "03.03.2026 13:00", ""),
        ("завтра утром", "03.03.2026 09:00", ""),
        ("завтра утром в 10 позвонить", "03.03.2026 10:00", "позвонить"),
        ("tomorrow 3pm", "03.03.2026 15:00", ""),
        # A time with a dot, a deadline with "к" or "до" and a weekday (they were not read).
        ("в 18.30 созвон", "02.03.2026 18:30", "созвон"),
        ("к 15:00 подготовить КП", "02.03.2026 15:00", "подготовить КП"),
        ("до пятницы отправить договор", "06.03.2026 09:00", "отправить договор"),
        ("к среде", "04.03.2026 09:00", ""),
        ("клиент в отпуске до мая", "01.05.2026 09:00", "клиент в отпуске"),  # the month's start
        ("перезвонить в мае", "01.05.2026 09:00", "перезвонить"),  # it was not read
        ("friday 10am", "06.03.2026 10:00", ""),
        ("через 30 минут проверить почту", "02.03.2026 10:30", "проверить почту"),
        ("в пятницу в 15:00 позвонить", "06.03.2026 15:00", "позвонить"),
        ("послезавтра в 9:30", "04.03.2026 09:30", ""),
        ("завтра", "03.03.2026 09:00", ""),  # a day without a time: the working day's start
        ("клиент в отпуске до 10.06", "10.06.2026 09:00", "клиент в отпуске"),
        ("до 31.12 клиент в отпуске", "31.12.2026 09:00", "клиент в отпуске"),  # not "до клиент…"
        ("доработать КП 31.12", "31.12.2026 09:00", "доработать КП"),
        ("10.01 позвонить", "10.01.2027 09:00", "позвонить"),  # January has passed: next year's
        ("call back tomorrow at 11", "03.03.2026 11:00", "call back"),
        ("in 2 hours", "02.03.2026 12:00", ""),
        (
            "remind me on 25.05 at 10:30 to send the proposal",
            "25.05.2026 10:30",
            "send the proposal",
        ),
        ("вчера в 10", "01.03.2026 10:00", ""),  # found, and in the past: the caller refuses it
        # Two dates joined by a dash: the first (it read "2026-15" as the 15th of this month).
        ("01.04.2026-15.04.2026", "01.04.2026 09:00", "15.04.2026"),
        ("01.04–15.04 отпуск", "01.04.2026 09:00", "15.04.2026 отпуск"),
        # A day and a month's name: "в 10" before a month is its day, not ten o'clock.
        ("в 10 мая отправить КП", "10.05.2026 09:00", "отправить КП"),
        ("в 10 мая в 15 позвонить", "10.05.2026 15:00", "позвонить"),
        ("встреча 31 марта в 10:30", "31.03.2026 10:30", "встреча"),
        ("on 10 May at 11", "10.05.2026 11:00", ""),
    ],
)
def test_times_as_managers_type_them(text: str, at: str, rest: str) -> None:
    when = parse_when(text, MONDAY_10.astimezone(dt.UTC), MOSCOW, DAY_START)
    assert when is not None
    assert when.at.tzinfo is not None
    assert when.at.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M") == at
    assert when.rest == rest


@pytest.mark.parametrize(
    "text",
    # Numbers are not dates: a decimal, a share, two figures apart (each read a day and month).
    [
        *("перезвонить", "нет бюджета", "", "🙂", "2,5", "2,5 млн", "10%", "2 5", "150 000"),
        *("Марта Иванова", "Май Ли"),  # names, not the 2nd of March or May
    ],
)
def test_text_without_a_time_is_none(text: str) -> None:
    assert parse_when(text, MONDAY_10, MOSCOW, DAY_START) is None


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("напомни 31.02 в 10 позвонить", "31.02"),  # was set for today 10:00, "31.02." kept
        ("до 31.04.2026 в отпуске", "31.04.2026"),
        ("29.02.2027 отправить КП", "29.02.2027"),  # 2027 is no leap year
        ("00.05 позвонить", "00.05"),
        # A month by its name: was read as that month's day of today, "31" left as the text.
        ("напомни 31 февраля", "31 февраля"),
        ("30 февр. позвонить", "30 февр."),
        ("до 31 апреля в отпуске", "31 апреля"),
        ("позвонить 31 сент", "31 сент"),
        ("29 февраля 2027 отправить КП", "29 февраля 2027"),
        ("call on February 30", "February 30"),
        ("31st of June call", "31st of June"),
    ],
)
def test_a_date_no_calendar_has_is_refused_not_skipped(text: str, date: str) -> None:
    with pytest.raises(ImpossibleDate) as refused:
        parse_when(text, MONDAY_10, MOSCOW, DAY_START)
    assert refused.value.date == date


def test_a_leap_day_and_a_dotted_time_are_no_impossible_dates() -> None:
    leap = parse_when("29.02.2028 позвонить", MONDAY_10, MOSCOW, DAY_START)
    assert leap is not None and leap.at.astimezone(MOSCOW).date() == dt.date(2028, 2, 29)
    parse_when("завтра в 10.30", MONDAY_10, MOSCOW, DAY_START)  # "10.30": no month 30
    leap_word = parse_when("29 февраля 2028 позвонить", MONDAY_10, MOSCOW, DAY_START)
    assert leap_word is not None and leap_word.at.astimezone(MOSCOW).date() == dt.date(2028, 2, 29)
    assert parse_when("купить 30 марок", MONDAY_10, MOSCOW, DAY_START) is None
