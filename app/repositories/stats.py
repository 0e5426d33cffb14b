"""Aggregates for /metrics: a few grouped counts, read at scrape time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Deployment, Host, Rollout

ACTIVE_ROLLOUT_STATES = ("pending", "in_progress")


def hosts_by_state(session: Session) -> dict[tuple[str, bool], int]:
    rows = session.execute(
        select(Host.state, Host.schedulable, func.count()).group_by(Host.state, Host.schedulable))
    return {(state, schedulable): n for state, schedulable, n in rows}


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


def due_reconciles(session: Session, now: datetime) -> int:
    """Deployments due a look that no worker holds (what the next resync enqueues)."""
    return session.scalar(select(func.count()).select_from(Deployment).where(
        (Deployment.next_reconcile_at.is_(None)) | (Deployment.next_reconcile_at <= now),
        (Deployment.lease_expires_at.is_(None)) | (Deployment.lease_expires_at < now),
    )) or 0
