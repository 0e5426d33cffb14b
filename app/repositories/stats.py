"""Aggregates for /metrics: a few grouped counts, read at scrape time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, type_coerce
from sqlalchemy.orm import Session

from app.db import UTCDateTime
from app.models import Deployment, Host, Rollout
from app.reconcile import rollouts as rules
from app.repositories import deployments as deployment_repo

ACTIVE_ROLLOUT_STATES = tuple(rules.ACTIVE)


def hosts_by_state(session: Session) -> dict[tuple[str, bool], int]:
    rows = session.execute(
        select(Host.state, Host.schedulable, func.count()).group_by(Host.state, Host.schedulable))
    return {(state, schedulable): n for state, schedulable, n in rows}


def edges_out_of_sync(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Host).where(Host.edge_error.is_not(None))) or 0


def heartbeats(session: Session) -> list[tuple[str, datetime | None]]:
    return [(name, at) for name, at in session.execute(select(Host.name, Host.last_heartbeat_at))]


def deployments(session: Session) -> list[tuple[str, str, int, int, int]]:
    """(name, phase, desired, ready, unavailable) of every deployment."""
    rows = session.execute(select(
        Deployment.name, Deployment.phase, Deployment.replicas, Deployment.ready_replicas,
        Deployment.unavailable_replicas))
    return [(name, phase, want, ready, missing) for name, phase, want, ready, missing in rows]


def active_rollouts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Rollout.state, func.count())
                           .where(Rollout.state.in_(ACTIVE_ROLLOUT_STATES))
                           .group_by(Rollout.state))
    return {state: n for state, n in rows}


def _due(now: datetime):
    return (
        deployment_repo.due(now),
        (Deployment.lease_expires_at.is_(None)) | (Deployment.lease_expires_at < now),
    )


def due_reconciles(session: Session, now: datetime) -> int:
    """Deployments due a look that no worker holds (what the next resync enqueues)."""
    return session.scalar(select(func.count()).select_from(Deployment).where(*_due(now))) or 0


def oldest_due_reconcile(session: Session, now: datetime) -> datetime | None:
    """Since when the deployment that has waited longest for a look (among those due and
    not held) has been due: its next_reconcile_at, or, never looked at since its desired
    state changed, that change (updated_at); or when a dead worker's lease on it ran out,
    if that was later. None when none is due."""
    due_at = func.coalesce(Deployment.next_reconcile_at, Deployment.updated_at)
    since = case((Deployment.lease_expires_at > due_at, Deployment.lease_expires_at),
                 else_=due_at)
    return session.scalar(select(type_coerce(func.min(since), UTCDateTime)).where(*_due(now)))
