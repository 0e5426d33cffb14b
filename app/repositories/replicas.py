from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Replica
from app.repositories.pagination import decode_cursor, encode_cursor


def for_deployment(session: Session, deployment_id: uuid.UUID) -> list[Replica]:
    return list(
        session.scalars(
            select(Replica)
            .where(Replica.deployment_id == deployment_id)
            .order_by(Replica.slot, Replica.container_name)
        )
    )


def page(
    session: Session, deployment_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Replica], str | None]:
    rows = for_deployment(session, deployment_id)
    after = decode_cursor(cursor, (int, str))
    if after is not None:
        rows = [r for r in rows if [r.slot, r.container_name] > list(after)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1].slot, rows[-1].container_name]) if more else None
