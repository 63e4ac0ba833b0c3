"""The token never reaches a log line, whether in the message, its arguments or a traceback."""

from __future__ import annotations

import io
import logging

from bot.telegram.logging_setup import RedactSecrets

TOKEN = "123456789:AAHsecret-token-value"


def test_the_token_is_redacted_everywhere_in_a_record() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(TOKEN))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
        except RuntimeError:
            logger.exception("send failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count("***") == 2
    assert "getMe" in output and "sendMessage failed" in output
