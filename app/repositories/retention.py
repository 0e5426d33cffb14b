"""Deletes of what only grows: old events, finished rollouts, webhook deliveries.

Each call deletes at most ``batch`` rows, oldest first, in one short statement, so a purge
never holds locks for long and the caller decides how many batches a run may take.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import Event, Rollout, StackRollout, WebhookDelivery
from app.repositories.rollouts import TERMINAL


def _delete_ids(session: Session, model, ids: list) -> int:
    if not ids:
        return 0
    result = session.execute(delete(model).where(model.id.in_(ids))
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def events_before(session: Session, cutoff: datetime, batch: int) -> int:
    # Ids grow with time: the oldest come first in primary-key order.
    ids = list(session.scalars(select(Event.id).where(Event.time < cutoff)
                               .order_by(Event.id).limit(batch)))
    return _delete_ids(session, Event, ids)


def _owners_with_more(session: Session, owner, keep: int) -> list[uuid.UUID]:
    return list(session.scalars(select(owner).group_by(owner).having(func.count() > keep)))


def _beyond(session: Session, model, owner, owner_id: uuid.UUID, keep: int, batch: int) -> int:
    """The owner's oldest rows past its newest ``keep`` (ids grow with time)."""
    newest_dropped = session.scalar(
        select(model.id).where(owner == owner_id).order_by(model.id.desc()).offset(keep).limit(1))
    if newest_dropped is None:
        return 0
    ids = list(session.scalars(select(model.id).where(owner == owner_id, model.id <= newest_dropped)
                               .order_by(model.id).limit(batch)))
    return _delete_ids(session, model, ids)


def deployments_with_more_events(session: Session, keep: int) -> list[uuid.UUID]:
    return _owners_with_more(session, Event.deployment_id, keep)


def events_beyond(session: Session, deployment_id: uuid.UUID, keep: int, batch: int) -> int:
    """The deployment's oldest events past its newest ``keep``."""
    return _beyond(session, Event, Event.deployment_id, deployment_id, keep, batch)


def _finished_before(session: Session, model, owner: str, cutoff: datetime, batch: int) -> int:
    """Ended before ``cutoff``; an owner's latest stays, whatever its age (it is what the
    owner shows as its current one)."""
    newer = model.__table__.alias("newer")
    mine = getattr(model, owner)
    has_newer = (select(newer.c.id).where(newer.c[owner] == mine,
                                          newer.c.created_at > model.created_at).exists())
    ids = list(session.scalars(
        select(model.id)
        .where(model.state.in_(TERMINAL), model.finished_at < cutoff, mine.is_(None) | has_newer)
        .order_by(model.finished_at).limit(batch)))
    return _delete_ids(session, model, ids)


def finished_rollouts_before(session: Session, cutoff: datetime, batch: int) -> int:
    """A deployment's rollouts (its latest stays)."""
    return _finished_before(session, Rollout, "deployment_id", cutoff, batch)


def finished_stack_rollouts_before(session: Session, cutoff: datetime, batch: int) -> int:
    """A stack's releases (its latest stays), by the same rule as rollouts."""
    return _finished_before(session, StackRollout, "stack_id", cutoff, batch)


def deliveries_before(session: Session, cutoff: datetime, batch: int) -> int:
    ids = list(session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.received_at < cutoff)
                               .order_by(WebhookDelivery.id).limit(batch)))
    return _delete_ids(session, WebhookDelivery, ids)


def webhooks_with_more_deliveries(session: Session, keep: int) -> list[uuid.UUID]:
    return _owners_with_more(session, WebhookDelivery.webhook_id, keep)


def deliveries_beyond(session: Session, webhook_id: uuid.UUID, keep: int, batch: int) -> int:
    return _beyond(session, WebhookDelivery, WebhookDelivery.webhook_id, webhook_id, keep, batch)
