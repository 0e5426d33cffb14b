"""The autoscaler's rows: which deployments it looks after, and what it remembers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import AutoscalerState, Deployment


def autoscaled_ids(session: Session) -> list[uuid.UUID]:
    """Deployments with an autoscale policy that are not being deleted."""
    return list(session.scalars(
        select(Deployment.id).where(Deployment.autoscale.is_not(None),
                                    Deployment.deleting.is_(False))
        .order_by(Deployment.id)))


def lock(session: Session, deployment_id: uuid.UUID) -> Deployment | None:
    """The deployment as it is once locked (as an apply locks it), or None if gone."""
    return session.scalar(select(Deployment).where(Deployment.id == deployment_id)
                          .with_for_update().execution_options(populate_existing=True))


def state(session: Session, deployment_id: uuid.UUID) -> AutoscalerState | None:
    return session.get(AutoscalerState, deployment_id)


def states(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, AutoscalerState]:
    ids = list(ids)
    if not ids:
        return {}
    rows = session.scalars(select(AutoscalerState).where(AutoscalerState.deployment_id.in_(ids)))
    return {r.deployment_id: r for r in rows}


def forget(session: Session, deployment_id: uuid.UUID) -> None:
    session.execute(delete(AutoscalerState).where(AutoscalerState.deployment_id == deployment_id))
