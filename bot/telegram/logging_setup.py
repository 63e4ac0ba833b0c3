"""Logging that never prints the bot token, wherever a library puts it (URLs, reprs, errors)."""

from __future__ import annotations

import logging


class RedactSecrets(logging.Filter):
    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self._redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def configure_logging(level: str, *secrets: str, process: str | None = None) -> None:
    """Log lines to stderr; `process` names a worker process in each of its lines."""
    handler = logging.StreamHandler()
    tag = f"[{process}] " if process else ""
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {tag}%(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(*secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def add_redaction(*secrets: str) -> None:
    """Also redact on handlers someone else installed (e.g. pytest's log capture)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(*secrets))
