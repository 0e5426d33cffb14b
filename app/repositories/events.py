from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Deployment, Event


def record(
    session: Session,
    deployment_id: uuid.UUID,
    reason: str,
    message: str,
    *,
    warning: bool = False,
    rollout_id: uuid.UUID | None = None,
    replica_id: uuid.UUID | None = None,
    dedupe: bool = False,
) -> Event | None:
    """Add an event. With dedupe, an exact repeat of the previous event is dropped."""
    if dedupe:
        last = session.scalar(
            select(Event)
            .where(Event.deployment_id == deployment_id)
            .order_by(Event.id.desc())
            .limit(1)
        )
        if last is not None and last.reason == reason and last.message == message:
            return None
    event = Event(
        deployment_id=deployment_id,
        time=utcnow(),
        type="warning" if warning else "normal",
        reason=reason,
        message=message,
        rollout_id=rollout_id,
        replica_id=replica_id,
    )
    # Not flushed here: a pass's events go in with its other writes at the commit (one
    # INSERT of them all; the unit of work keeps their order, and so their ids').
    session.add(event)
    return event


def after(
    session: Session, deployment_id: uuid.UUID | None, after_id: int | None, limit: int
) -> list[tuple[Event, str]]:
    """Events after ``after_id``, oldest first, each with its deployment's name: of one
    deployment, or of every deployment (``deployment_id=None``)."""
    query = (
        select(Event, Deployment.name)
        .join(Deployment, Deployment.id == Event.deployment_id)
        .order_by(Event.id.asc())
        .limit(limit)
    )
    if deployment_id is not None:
        query = query.where(Event.deployment_id == deployment_id)
    if after_id is not None:
        query = query.where(Event.id > after_id)
    return [(event, name) for event, name in session.execute(query)]


def tail_start(session: Session, deployment_id: uuid.UUID | None, n: int) -> int | None:
    """The id after which only the newest ``n`` events come (of one deployment, or of
    all); None when there are no more than ``n``."""
    query = select(Event.id).order_by(Event.id.desc()).offset(n).limit(1)
    if deployment_id is not None:
        query = query.where(Event.deployment_id == deployment_id)
    return session.scalar(query)


def last_warning(session: Session, deployment_id: uuid.UUID, since: datetime) -> Event | None:
    """The newest warning about a deployment since ``since``: why it is stuck, most likely."""
    return session.scalar(
        select(Event)
        .where(Event.deployment_id == deployment_id, Event.type == "warning", Event.time >= since)
        .order_by(Event.id.desc())
        .limit(1)
    )


def last_with_reason(session: Session, deployment_id: uuid.UUID, reason: str) -> Event | None:
    """The newest event of one reason about a deployment (to say a thing once, not at
    every pass, even when other events came between)."""
    return session.scalar(
        select(Event)
        .where(Event.deployment_id == deployment_id, Event.reason == reason)
        .order_by(Event.id.desc())
        .limit(1)
    )
