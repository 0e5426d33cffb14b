from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import ApiToken
from app.repositories.pagination import decode_cursor, encode_cursor


def find_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """The one query every authenticated request makes: a unique-index lookup."""
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def get(session: Session, token_id: uuid.UUID) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} does not exist")
    return token


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApiToken)) or 0


def add(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def touch(session: Session, token_id: uuid.UUID, now: datetime, stale_before: datetime) -> None:
    """Record use, at most once per staleness window (a write per request would make
    every request with this token contend for one row)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < stale_before))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def page(session: Session, limit: int, cursor: str | None) -> tuple[list[ApiToken], str | None]:
    """Oldest first, by (created_at, id)."""
    after = decode_cursor(cursor, (ApiToken.created_at, ApiToken.id))
    query = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id).limit(limit + 1)
    if after is not None:
        at, after_id = after
        query = query.where(or_(ApiToken.created_at > at,
                                (ApiToken.created_at == at) & (ApiToken.id > after_id)))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return rows, encode_cursor([last.created_at.isoformat(), str(last.id)]) if more and last else None
