"""Secrets at rest: values sealed (Fernet: AES-128-CBC + HMAC-SHA256) before they reach
the database, opened when read. A stolen dump or backup holds no usable secret.

Keys come from ``MOORAGE_SECRET_KEYS`` (comma-separated; the first seals, every one
opens, so a key is rotated by putting a new one first, running ``moorage secrets
reseal``, then dropping the old). In development, with no keys set, a key is made once
in the data directory. Values written before sealing existed are read as they are and
sealed the next time they are written (or by ``reseal``).
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON, Text
from sqlalchemy.types import TypeDecorator

from app.config import Settings, get_settings
from app.logs import register_secret_values

PREFIX = "sealed:v1:"
JSON_KEY = "$sealed"  # not a possible env var name, so never a user's secret key

_lock = threading.Lock()
_cached: tuple[str, MultiFernet] | None = None


class SealingError(RuntimeError):
    """A sealed value could not be opened: the key that sealed it is not configured."""


def _dev_key(settings: Settings) -> str:
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(Fernet.generate_key().decode())
    return path.read_text().strip()


def keys_of(settings: Settings) -> list[str]:
    keys = [k.strip() for k in settings.secret_keys.split(",") if k.strip()]
    return keys or [_dev_key(settings)]


def _fernet() -> MultiFernet:
    global _cached
    settings = get_settings()
    fingerprint = f"{settings.secret_keys}|{settings.data_dir}"
    with _lock:
        if _cached is None or _cached[0] != fingerprint:
            _cached = (fingerprint, MultiFernet([Fernet(k.encode()) for k in keys_of(settings)]))
        return _cached[1]


def _secret_strings(value: Any) -> list[str]:
    """The strings of a sealed value that must never be logged (a secrets dict's values,
    a PEM whole and stripped)."""
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    if isinstance(value, str):
        return [value, value.strip()]
    return []


def seal(plain: str) -> str:
    return PREFIX + _fernet().encrypt(plain.encode()).decode()


def open_sealed(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before sealing existed
    try:
        return _fernet().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise SealingError(
            "a sealed secret cannot be opened with the configured MOORAGE_SECRET_KEYS "
            "(was the key that sealed it removed?)"
        ) from exc


class SealedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        register_secret_values(_secret_strings(value))
        return seal(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        plain = open_sealed(value)
        register_secret_values(_secret_strings(plain))
        return plain


class SealedJSON(TypeDecorator[Any]):
    """A JSON value stored as ``{"$sealed": "<token>"}``."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> Any:
        if value is None:
            return None
        register_secret_values(_secret_strings(value))
        return {JSON_KEY: seal(json.dumps(value))}

    def process_result_value(self, value: Any, dialect) -> Any:
        if isinstance(value, dict) and set(value) == {JSON_KEY}:
            value = json.loads(open_sealed(value[JSON_KEY]))
        register_secret_values(_secret_strings(value))
        return value


def sealed_keys(stored: Any) -> list[str]:
    """The keys of a SealedJSON value as the database holds it (sealed, or plain from
    before sealing), without keeping its values: what shows a secrets dict's names.

    Each sealed token is opened once a process (``_keys_of``): a token never changes (a
    reseal writes a new one), and opening one (AES and HMAC, and the JSON) on every read
    of every row was a tenth of a page of deployments."""
    if isinstance(stored, dict) and set(stored) == {JSON_KEY}:
        return list(_keys_of(stored[JSON_KEY]))
    return list(stored or ())


@lru_cache(maxsize=8192)
def _keys_of(token: str) -> tuple[str, ...]:
    value = json.loads(open_sealed(token))
    register_secret_values(_secret_strings(value))  # as any opening does
    return tuple(value)

