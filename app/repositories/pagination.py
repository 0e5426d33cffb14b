from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, SmallInteger, String, Uuid
from sqlalchemy.types import TypeDecorator, TypeEngine

from app.errors import Invalid
from app.storable import storable_text

# What a cursor's key is checked against: the column a list pages by, or a tuple of them
# for a composite key (a JSON list). A key the column's type cannot hold (text a
# database refuses, a number past the column's range, a time past its calendar) would
# fail in the database: it is a 422 here instead, as every cursor this API did not hand
# out is.
KeyShape = Any

T = TypeVar("T")

# Integer column types, most specific first, and the range each holds. SQLite's INTEGER
# is 64 bits whatever the declared type, so a column's declared type is the narrower.
_INT_RANGES: tuple[tuple[type[TypeEngine[Any]], int], ...] = (
    (SmallInteger, 2**15), (BigInteger, 2**63), (Integer, 2**31),
)


class _Unfit(ValueError):
    pass


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode().rstrip("=")


def _invalid() -> Invalid:
    return Invalid("cursor is not one this API returned", loc=["query", "cursor"])


def _type_of(column: Any) -> TypeEngine[Any]:
    kind = column.type
    while isinstance(kind, TypeDecorator):  # e.g. UTCDateTime: what it stores
        kind = kind.impl_instance
    return kind


def _text(key: Any, length: int | None) -> str:
    if (not isinstance(key, str) or not storable_text(key)
            or (length is not None and len(key) > length)):
        raise _Unfit
    return key


def _as_column_takes(key: Any, column: Any) -> Any:
    """``key`` as ``column`` takes it, or _Unfit."""
    kind = _type_of(column)
    for int_type, bound in _INT_RANGES:
        if isinstance(kind, int_type):
            # bool is an int to Python, never to us
            if isinstance(key, bool) or not isinstance(key, int) or not -bound <= key < bound:
                raise _Unfit
            return key
    if isinstance(kind, String):
        return _text(key, kind.length)
    if isinstance(kind, Uuid):
        try:
            return uuid.UUID(_text(key, 36))
        except ValueError as exc:
            raise _Unfit from exc
    if isinstance(kind, DateTime):
        # What UTCDateTime writes: an aware time that is still one in UTC.
        try:
            at = datetime.fromisoformat(_text(key, 64))
            if at.tzinfo is None:
                raise _Unfit
            return at.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise _Unfit from exc
    raise TypeError(f"a cursor cannot page by {column} ({kind!r})")


def decode_cursor(cursor: str | None, shape: KeyShape) -> Any:
    """The key a cursor carries, as the column(s) ``shape`` take it (a tuple of columns:
    a tuple of values): a cursor this API did not hand out (garbage, or a key the column
    cannot hold) is a 422, never a 500."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid() from exc
    try:
        if isinstance(shape, tuple):
            if not isinstance(key, list) or len(key) != len(shape):
                raise _Unfit
            return tuple(_as_column_takes(k, c) for k, c in zip(key, shape, strict=True))
        return _as_column_takes(key, shape)
    except _Unfit as exc:
        raise _invalid() from exc


def cut_page(rows: list[T], limit: int, key: Callable[[T], Any]) -> tuple[list[T], str | None]:
    """Rows were fetched with limit + 1: keep ``limit`` and say where the next page starts."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1])) if more else None
