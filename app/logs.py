"""Logging setup, with a filter that keeps secret values out of every log line."""

from __future__ import annotations

import logging
import threading

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret_values(values) -> None:
    """Values that must never reach a log line (short ones would redact too much)."""
    with _lock:
        _secrets.update(v for v in values if len(v) >= 4)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        redacted = message
        for value in list(_secrets):
            if value in redacted:
                redacted = redacted.replace(value, "***")
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
