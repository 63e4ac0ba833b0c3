from itertools import islice

from bot.telegram.telegram_probe import retry_pauses


def test_the_pause_between_attempts_doubles_up_to_a_minute() -> None:
    assert list(islice(retry_pauses(), 9)) == [1, 2, 4, 8, 16, 32, 60, 60, 60]
