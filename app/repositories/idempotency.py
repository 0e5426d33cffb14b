from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import IdempotencyKey


def find(session: Session, token_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey)
        .where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )


def try_insert(session: Session, record: IdempotencyKey) -> bool:
    """Insert unless the (token, key) pair exists. On Postgres, while another open
    transaction holds the same pair, this waits for it to end (that is the point)."""
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return False
    return True


def remove(session: Session, record: IdempotencyKey) -> None:
    session.delete(record)
    session.flush()


def purge_before(session: Session, cutoff: datetime) -> int:
    result = session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
