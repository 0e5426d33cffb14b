from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import Deployment, Host, Replica, Revision
from app.repositories.pagination import cut_page, decode_cursor


def for_deployment(session: Session, deployment_id: uuid.UUID) -> list[Replica]:
    return list(
        session.scalars(
            select(Replica)
            .where(Replica.deployment_id == deployment_id)
            .order_by(Replica.slot, Replica.container_name)
        )
    )


def forget(session: Session, deployment_id: uuid.UUID, container_ids: set[str]) -> None:
    """Drop the records of containers Moorage has just removed."""
    if container_ids:
        session.execute(delete(Replica).where(Replica.deployment_id == deployment_id,
                                              Replica.container_id.in_(container_ids)))


def page(
    session: Session, deployment_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Replica], str | None]:
    rows = for_deployment(session, deployment_id)
    after = decode_cursor(cursor, (Replica.slot, Replica.container_name))
    if after is not None:
        rows = [r for r in rows if (r.slot, r.container_name) > after]
    return cut_page(rows, limit, lambda r: [r.slot, r.container_name])


def footprints(session: Session, exclude: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """(host id, the owning deployment's current revision id, replica count): what
    other deployments hold on each host. One grouped statement; the revisions'
    templates are the caller's to read (``templates``), once each: revisions never
    change, so a worker reads each one's template at most once, not at every pass."""
    rows = session.execute(
        select(Replica.host_id, Revision.id, func.count())
        .join(Deployment, Deployment.id == Replica.deployment_id)
        .join(Revision, (Revision.deployment_id == Deployment.id)
              & (Revision.number == Deployment.revision))
        .where(Replica.deployment_id != exclude, Replica.state != "exited")
        .group_by(Replica.host_id, Revision.id)
    ).all()
    return [(host_id, revision_id, n) for host_id, revision_id, n in rows]


def templates(session: Session, revision_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """The stored templates of these revisions (one gone meanwhile, with its deployment,
    is simply missing)."""
    if not revision_ids:
        return {}
    return dict(session.execute(
        select(Revision.id, Revision.template).where(Revision.id.in_(revision_ids))).all())


def deployment_ids_on_hosts(session: Session, host_names: list[str]) -> list[uuid.UUID]:
    if not host_names:
        return []
    query = (
        select(Replica.deployment_id)
        .join(Host, Host.id == Replica.host_id)
        .where(Host.name.in_(host_names))
        .distinct()
    )
    return list(session.scalars(query))


def hosts_by_deployment(
    session: Session, exclude: uuid.UUID
) -> list[tuple[str, dict, list[str]]]:
    """(deployment name, stored template of its current revision, the hosts where it has
    replicas that are not exited), for every other deployment that has some. One
    statement, like ``footprints``. (For which members of a network run where.)"""
    pairs = (
        select(Deployment.name.label("deployment"), Revision.id.label("revision_id"),
               Host.name.label("host"))
        .select_from(Replica)
        .join(Deployment, Deployment.id == Replica.deployment_id)
        .join(Revision, (Revision.deployment_id == Deployment.id)
              & (Revision.number == Deployment.revision))
        .join(Host, Host.id == Replica.host_id)
        .where(Replica.deployment_id != exclude, Replica.state != "exited",
               Deployment.deleting.is_(False))
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(pairs.c.deployment, Revision.template, pairs.c.host)
        .join(Revision, Revision.id == pairs.c.revision_id)
        .order_by(pairs.c.deployment, pairs.c.host)
    ).all()
    out: dict[str, tuple[dict, list[str]]] = {}
    for name, template, host in rows:
        out.setdefault(name, (template, []))[1].append(host)
    return [(name, template, hosts) for name, (template, hosts) in out.items()]
