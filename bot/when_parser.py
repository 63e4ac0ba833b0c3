"""Times as people type them: "перезвонить завтра в 11", "напомни 25.05 в 10:30", "через 2 часа",
"call back tomorrow at 11", "клиент в отпуске до 10.06". `dateparser` reads them in the sales
team's time zone; three habits it misreads are rewritten first: a bare hour ("в 11", "at 11"
becomes 11:00, not ignored; "в 10 мая" stays a day), a day.month without a year ("25.05"
would be read as a time) and two dates joined by a dash ("01.11.2026-30.11.2026" was read as
the 30th of this month). A date no calendar has ("31.02", "31 февраля", "February 30") is
refused rather than read as another day ("31 февраля" was the 7th of February, "31" left as
what to remind of).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LANGUAGES = ["ru", "en"]
_DAY_MONTH = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})(?![\d.]|\.\d)")
_DATE_DASH = re.compile(r"(?<=\d)\s*[-–—]\s*(?=\d{1,2}\.\d{1,2})")
_SAYS_WHEN = re.compile(r"[^\W\d_]|\d:\d|\d\.\d")
# A clock time, or hours and minutes from now ("через час", "30 мин", "in an hour"): the
# moment dateparser found stands. Anything else names a day, which starts the working day.
_HAS_TIME = re.compile(
    r"\d{1,2}:\d{2}|\b(через|in)\s+\d+|\bчас|полчаса|\bмин|\bhour|\bminute|\d\s*[ap]\.?m\b",
    re.IGNORECASE,
)
_HOUR_AND_PART_OF_DAY = re.compile(
    r"(\bв\s+)?\b(\d{1,2})(?::(\d{2}))?\s*(утра|дня|вечера|ночи)\b", re.IGNORECASE
)
"""An hour with its part of the day, as 24 hours: dateparser read "в 6 вечера" as 06:00 and
left "вечера" in the reminder's text."""
_PART_OF_DAY = re.compile(r"\b(в\s+обед|утром|дн[её]м|вечером)\b", re.IGNORECASE)
_PART_OF_DAY_HOURS = {"днём": 13, "днем": 13, "вечером": 18}
"""A part of the day without an hour: "завтра вечером" at 18:00, "утром" the working day's start."""
_LEADING = re.compile(r"^\W*(напомни(?:ть)?|remind me(?: to)?|до|к|until|by)\b\W*", re.IGNORECASE)
_TRAILING = re.compile(r"\W*\b(до|к|until|by|on|в|at)\W*$|\W+$", re.IGNORECASE)
_DOTTED_TIME = re.compile(r"(?<![\d.])([01]?\d|2[0-3])\.([0-5]\d)(?![\d.])")
"""A time written with a dot, "в 18.30": no month is 30, so it is not a day.month."""
_WEEKDAY_CASES = {
    form: weekday
    for weekday, forms in (
        ("понедельник", "понедельника понедельнику"),
        ("вторник", "вторника вторнику"),
        ("среду", "среды среде"),
        ("четверг", "четверга четвергу"),
        ("пятницу", "пятницы пятнице"),
        ("субботу", "субботы субботе"),
        ("воскресенье", "воскресенья воскресенью"),
    )
    for form in forms.split()
}
_WEEKDAY_AFTER_BY = re.compile(rf"\b(до|к)\s+({'|'.join(_WEEKDAY_CASES)})\b", re.IGNORECASE)
"""A weekday after "до" or "к" ("до пятницы", "к пятнице"), in the accusative: the only case
dateparser reads."""
_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})(?:\.(\d{4}))?(?![\d])")
_IN_A_MONTH = {
    "январе": "января",
    "феврале": "февраля",
    "марте": "марта",
    "апреле": "апреля",
    "мае": "мая",
    "июне": "июня",
    "июле": "июля",
    "августе": "августа",
    "сентябре": "сентября",
    "октябре": "октября",
    "ноябре": "ноября",
    "декабре": "декабря",
}
_IN_A_MONTH_WORD = re.compile(rf"\bв\s+({'|'.join(_IN_A_MONTH)})\b(?!\s*\d)", re.IGNORECASE)
"""A month in the prepositional, "перезвонить в мае": its first day (dateparser does not read
the case); not this month's (which day of it?), nor one with a day after it ("в мае 15-го")."""
_MONTH_WORDS = {
    word: month
    for month, words in enumerate(
        (
            "январь января янв january jan",
            "февраль февраля фев февр february feb",
            "март марта мар march mar",
            "апрель апреля апр april apr",
            "май мая may",
            "июнь июня июн june jun",
            "июль июля июл july jul",
            "август августа авг august aug",
            "сентябрь сентября сен сент september sep sept",
            "октябрь октября окт october oct",
            "ноябрь ноября ноя нояб november nov",
            "декабрь декабря дек december dec",
        ),
        start=1,
    )
    for word in words.split()
}
_MONTH_WORD = "|".join(sorted(_MONTH_WORDS, key=len, reverse=True))
_BARE_HOUR = re.compile(
    rf"\b(в|at)\s+(\d{{1,2}})(?![\d:.])(?!\s*(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_WORD})\b)",
    re.IGNORECASE,
)
"""A bare hour, not the day of a month ("в 10 мая" is the 10th of May)."""
_DAY_THEN_MONTH_WORD = re.compile(
    rf"(?<![\d.])(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_WORD})\b\.?(?:\s+(\d{{4}})\b)?",
    re.IGNORECASE,
)
_MONTH_WORD_THEN_DAY = re.compile(
    rf"\b({_MONTH_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?![\d.:])(?:,?\s+(\d{{4}})\b)?",
    re.IGNORECASE,
)


class ImpossibleDate(ValueError):
    """The text names a day its month does not have ("31.02", "31.04.2027")."""

    def __init__(self, date: str) -> None:
        super().__init__(date)
        self.date = date


@dataclass(frozen=True, slots=True)
class When:
    at: dt.datetime
    """Aware, in UTC."""
    rest: str
    """The words around the time: what to remind of, why a deal is snoozed."""


def parse_when(text: str, now: dt.datetime, zone: ZoneInfo, day_start: dt.time) -> When | None:
    """The first time mentioned in `text`, or None if there is none. A day without a time of
    day means the start of the working day; a day.month already past this year means next
    year's. Whether the time is in the future is the caller's question."""
    local_now = now.astimezone(zone)
    _refuse_impossible_dates(text, local_now.year)
    normalized = _DATE_DASH.sub(" - ", text)
    normalized = _DOTTED_TIME.sub(
        lambda m: f"{m[1]}:{m[2]}" if int(m[2]) > 12 else m[0], normalized
    )
    normalized = _WEEKDAY_AFTER_BY.sub(
        lambda m: f"{m[1]} {_WEEKDAY_CASES[m[2].lower()]}", normalized
    )
    normalized = _DAY_MONTH.sub(lambda m: f"{m[1]}.{m[2]}.{local_now.year}", normalized)
    normalized = _IN_A_MONTH_WORD.sub(lambda m: _first_of(m, local_now.month), normalized)
    normalized = _HOUR_AND_PART_OF_DAY.sub(_as_24_hours, normalized)
    if not re.search(r"\d:\d\d", normalized) and not _BARE_HOUR.search(normalized):
        normalized = _PART_OF_DAY.sub(lambda m: _part_of_day(m[1], day_start), normalized)
    else:  # beside a clock time ("завтра утром в 10") it says nothing more, and split the phrase
        normalized = " ".join(_PART_OF_DAY.sub(" ", normalized).split())
    normalized = _BARE_HOUR.sub(lambda m: f"{m[1]} {m[2]}:00", normalized)
    from dateparser.search import search_dates  # loaded with the first date read, not at start

    found = search_dates(
        normalized,
        languages=LANGUAGES,
        settings={
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
            "TIMEZONE": str(zone),
            "RETURN_AS_TIMEZONE_AWARE": True,
        },
    )
    # Only words, a clock time or a dotted date say "when": dateparser also reads a bare
    # "2,5", "2 5" or "10%" as a day and a month, and "2,5 млн" became a reminder for May 2.
    said = [
        (phrase, moment)
        for phrase, moment in found or ()
        if _SAYS_WHEN.search(phrase) and not _a_name_like_a_month(phrase, normalized)
    ]
    if not said:
        return None
    phrase, moment = said[0]
    if phrase.strip().lower() in _MONTH_WORDS:  # "до мая": by the month's start
        moment = moment.replace(day=1)
    if not _HAS_TIME.search(phrase):
        moment = moment.replace(hour=day_start.hour, minute=day_start.minute, second=0)
    if _DAY_MONTH.search(text) and f".{local_now.year}" in phrase and moment < local_now:
        moment = moment.replace(year=moment.year + 1)
    rest = " ".join(normalized.replace(phrase, " ", 1).split())
    rest = _TRAILING.sub("", _LEADING.sub("", rest)).strip(" ,.;:-")
    return When(at=moment.astimezone(dt.UTC), rest=rest)


def _a_name_like_a_month(phrase: str, text: str) -> bool:
    """A month's name alone, with no "до", "к" or "с" before it, is a name ("Марта Иванова",
    "Май Ли"): dateparser read each as a day of that month."""
    if phrase.strip().lower() not in _MONTH_WORDS:
        return False
    before = text[: text.find(phrase)].split()
    return not before or before[-1].lower() not in ("до", "к", "с", "by", "until")


def _first_of(found: re.Match[str], this_month: int) -> str:
    genitive = _IN_A_MONTH[found[1].lower()]
    if _MONTH_WORDS[genitive] == this_month:  # "в марте" in March: no day to name
        return found[0]
    return f"1 {genitive}"


def _as_24_hours(found: re.Match[str]) -> str:
    at, hour, part = found[1] or "", int(found[2]), found[4].lower()
    if part == "дня" and not at:  # "через 3 дня" is three days, "в 3 дня" three o'clock
        return found[0]
    if part in ("дня", "вечера") and hour < 12:
        hour += 12
    elif part in ("утра", "ночи") and hour == 12:
        hour = 0
    if hour > 23:
        return found[0]
    return f"{at}{hour}:{found[3] or '00'}"


def _part_of_day(word: str, day_start: dt.time) -> str:
    lunch = word.lower().split()[0] == "в"  # "в обед"
    hour = 13 if lunch else _PART_OF_DAY_HOURS.get(word.lower())
    return f"в {hour}:00" if hour is not None else f"в {day_start:%H:%M}"


def _refuse_impossible_dates(text: str, this_year: int) -> None:
    """A day.month whose month is real but whose day is not in it. A "month" past 12 is no
    date at all ("в 10.30" is a time) and is left to the reading. A month written as a word
    ("31 февраля", "Feb 30") is checked the same way."""
    for found in _DATE.finditer(text):
        if 1 <= int(found[2]) <= 12:
            typed_date(found, this_year)
    for found in _DAY_THEN_MONTH_WORD.finditer(text):
        _check_day(found[0], int(found[1]), found[2], found[3], this_year)
    for found in _MONTH_WORD_THEN_DAY.finditer(text):
        _check_day(found[0], int(found[2]), found[1], found[3], this_year)


def _check_day(typed: str, day: int, month_word: str, year: str | None, this_year: int) -> None:
    month = _MONTH_WORDS[month_word.lower()]
    try:
        dt.date(int(year) if year else this_year, month, day)
    except ValueError:
        raise ImpossibleDate(typed.strip()) from None


def typed_date(found: re.Match[str], this_year: int) -> dt.date:
    """A matched day.month[.year] (groups 1-3; a two-digit year is this century's, a missing
    one `this_year`) as a date; `ImpossibleDate` if the calendar has no such day."""
    day, month, year = found.group(1, 2, 3)
    full_year = int(year) + (2000 if len(year) == 2 else 0) if year else this_year
    try:
        return dt.date(full_year, int(month), int(day))
    except ValueError:
        raise ImpossibleDate(found[0]) from None
