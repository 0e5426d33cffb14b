"""Logging setup, with a filter that keeps secret values out of every log line.

Secret values are registered where they are sealed or opened (app.sealing), which every
stored secret passes through, so no call site has to remember; and where a token is
made (it is stored only as a hash). The set is bounded: the least recently seen values
go first, and a value in use is seen again each time it is read.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

MAX_SECRETS = 10_000
MIN_LENGTH = 4  # shorter ones would redact too much

_secrets: OrderedDict[str, None] = OrderedDict()
_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def _fresh_lock_in_child() -> None:
    # A worker forks its pool while other threads may hold the lock: the child gets a new one.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)


def register_secret_values(values: Iterable[str]) -> None:
    """Values that must never reach a log line."""
    global _pattern
    with _lock:
        changed = False
        for value in values:
            if not isinstance(value, str) or len(value) < MIN_LENGTH:
                continue
            if value in _secrets:
                _secrets.move_to_end(value)
                continue
            _secrets[value] = None
            changed = True
            if len(_secrets) > MAX_SECRETS:
                _secrets.popitem(last=False)
        if changed:
            _pattern = None


def _current_pattern() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _secrets:
            # Longest first, so a secret that contains another is redacted whole.
            alternatives = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(v) for v in alternatives))
        return _pattern


def redactor(values: Iterable[str]) -> Callable[[str], str]:
    """A redact function for just these values (e.g. one deployment's secrets, for its
    containers' output), by the same rules as the log filter's."""
    kept = sorted({v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH},
                  key=len, reverse=True)
    if not kept:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(v) for v in kept))
    return lambda text: pattern.sub("***", text)


def redact(text: str) -> str:
    pattern = _current_pattern()
    return text if pattern is None else pattern.sub("***", text)


# A webhook's URL is /v1/hooks/{id}, and a dockerhub one, which cannot sign, has its id
# for a secret: no log line (the access log's first) shows a hook's id.
_HOOK_PATH = re.compile(r"(/v1/hooks/)[^/\s?#\"']+")


def hide_hook_ids(text: str) -> str:
    return _HOOK_PATH.sub(r"\1***", text) if "/v1/hooks/" in text else text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = hide_hook_ids(redact(message) if _secrets else message)
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
