"""Rows of worker and beat processes saying they live (see app.services.liveness)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.models import ProcessHeartbeat


def record(
    session: Session, row_id: uuid.UUID, *, kind: str, hostname: str, pid: int,
    started_at: datetime, seen_at: datetime, broker_seen_at: datetime | None,
) -> None:
    """Say that process ``row_id`` lives at ``seen_at``; insert its row if it is not
    there (the first beat, or a row purged while the process could not reach us)."""
    result = session.execute(
        update(ProcessHeartbeat)
        .where(ProcessHeartbeat.id == row_id)
        .values(last_seen_at=seen_at, broker_seen_at=broker_seen_at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        session.add(ProcessHeartbeat(
            id=row_id, kind=kind, hostname=hostname, pid=pid, started_at=started_at,
            last_seen_at=seen_at, broker_seen_at=broker_seen_at))


def remove(session: Session, row_id: uuid.UUID) -> None:
    session.execute(delete(ProcessHeartbeat).where(ProcessHeartbeat.id == row_id))


def purge(session: Session, not_seen_since: datetime) -> int:
    """Forget processes last seen before ``not_seen_since`` (an indexed delete)."""
    result = session.execute(
        delete(ProcessHeartbeat).where(ProcessHeartbeat.last_seen_at < not_seen_since))
    return result.rowcount


def all_rows(session: Session) -> list[ProcessHeartbeat]:
    return list(session.scalars(select(ProcessHeartbeat).order_by(
        ProcessHeartbeat.kind, ProcessHeartbeat.started_at, ProcessHeartbeat.id)))
