"""Queries for endpoints and edge hosts: what the edges serve, who writes their config."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.models import Deployment, Host


def edge_hosts(session: Session) -> list[Host]:
    return list(session.scalars(select(Host).where(Host.edge.is_(True)).order_by(Host.name)))


def hosts_with_a_proxy(session: Session) -> list[Host]:
    """Edges, and hosts that were edges and may still run a proxy to take down."""
    return list(session.scalars(
        select(Host).where(or_(Host.edge.is_(True), Host.edge_applied.is_not(None))).order_by(Host.name)))


def served(session: Session) -> list[tuple[str, int, dict[str, Any]]]:
    """(name, listen port, endpoint state) of every endpoint the edges serve."""
    rows = session.execute(
        select(Deployment.name, Deployment.endpoint_listen_port, Deployment.endpoint_state)
        .where(Deployment.endpoint_state.is_not(None), Deployment.endpoint_listen_port.is_not(None),
               Deployment.deleting.is_(False))
        .order_by(Deployment.name))
    return [(name, port, state) for name, port, state in rows if state]


def with_endpoints(session: Session) -> list[uuid.UUID]:
    return list(session.scalars(select(Deployment.id).where(Deployment.endpoint_state.is_not(None))))


def state_of(session: Session, deployment_id: uuid.UUID) -> tuple[int | None, dict[str, Any] | None] | None:
    row = session.execute(
        select(Deployment.endpoint_listen_port, Deployment.endpoint_state)
        .where(Deployment.id == deployment_id)).first()
    return None if row is None else (row[0], row[1])


def set_state(session: Session, deployment_id: uuid.UUID, state: dict[str, Any] | None) -> None:
    session.execute(update(Deployment).where(Deployment.id == deployment_id)
                    .values(endpoint_state=state).execution_options(synchronize_session=False))


def listen_port_owner(session: Session, port: int) -> str | None:
    return session.scalar(select(Deployment.name).where(Deployment.endpoint_listen_port == port))


def used_listen_ports(session: Session, low: int, high: int) -> set[int]:
    return set(session.scalars(select(Deployment.endpoint_listen_port).where(
        Deployment.endpoint_listen_port.between(low, high))))


def try_take_edge(session: Session, host_id: uuid.UUID, owner: str, now: datetime, until: datetime) -> bool:
    """Compare-and-set, like a deployment's lease: one writer of an edge's config."""
    result = session.execute(
        update(Host)
        .where(Host.id == host_id, or_(Host.edge_lease_owner.is_(None), Host.edge_lease_owner == owner,
                                       Host.edge_lease_until < now))
        .values(edge_lease_owner=owner, edge_lease_until=until)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_edge(session: Session, host_id: uuid.UUID, owner: str, applied: dict | None, keep: bool) -> None:
    """Give the lease up; record what the proxy was given (``keep``: leave it as it was)."""
    values: dict[str, Any] = {"edge_lease_owner": None, "edge_lease_until": None}
    if not keep:
        values["edge_applied"] = applied
    session.execute(update(Host).where(Host.id == host_id, Host.edge_lease_owner == owner)
                    .values(**values).execution_options(synchronize_session=False))


def set_edge_errors(session: Session, outcome: dict[uuid.UUID, str | None]
                    ) -> list[tuple[str, str | None, str | None]]:
    """Write each host's ``edge_error`` where it differs, as a compare-and-set on the value
    read (another sync may be writing it too: only one sees each change). Returns the
    changes made, ``(host name, was, now)``; hosts in id order, so two writers never
    deadlock on each other's rows."""
    rows = session.execute(select(Host.id, Host.name, Host.edge_error)
                           .where(Host.id.in_(list(outcome)))).all()
    changed = []
    for host_id, name, was in sorted(rows):
        now = outcome[host_id]
        if was == now:
            continue
        done = session.execute(update(Host).where(Host.id == host_id,
                                                  Host.edge_error.is_not_distinct_from(was))
                               .values(edge_error=now))
        if done.rowcount:
            changed.append((name, was, now))
    return changed
