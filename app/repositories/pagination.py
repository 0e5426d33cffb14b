from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from app.errors import Invalid

# What a cursor's key may be: a type, or a tuple of them for a composite key (a list).
KeyShape = type | tuple[type, ...]
_BIGINT = 2**63

T = TypeVar("T")


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode().rstrip("=")


def _invalid() -> Invalid:
    return Invalid("cursor is not one this API returned", loc=["query", "cursor"])


def _fits(key: Any, shape: KeyShape) -> bool:
    if isinstance(shape, tuple):
        return (
            isinstance(key, list)
            and len(key) == len(shape)
            and all(_fits(k, s) for k, s in zip(key, shape, strict=True))
        )
    if shape is int:  # bool is an int to Python, never to us; and it must fit a BIGINT
        return isinstance(key, int) and not isinstance(key, bool) and -_BIGINT <= key < _BIGINT
    if shape is str:  # no database stores NUL in text
        return isinstance(key, str) and "\x00" not in key
    return isinstance(key, shape)


def decode_cursor(cursor: str | None, shape: KeyShape) -> Any:
    """The key a cursor carries, checked against ``shape``: a cursor this API did not
    hand out (garbage, or a key of the wrong kind) is a 422, never a 500."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid() from exc
    if not _fits(key, shape):
        raise _invalid()
    return key


def cut_page(rows: list[T], limit: int, key: Callable[[T], Any]) -> tuple[list[T], str | None]:
    """Rows were fetched with limit + 1: keep ``limit`` and say where the next page starts."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1])) if more else None
