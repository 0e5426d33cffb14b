"""Usage samples: what the sampler reads and writes, and what the API, the metrics and
the autoscaler read back. Every read looks at the retention window only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, bindparam, case, delete, func, or_, select
from sqlalchemy.orm import Session

from app.models import Deployment, Host, Replica, UsageSample
from app.reconcile.vocabulary import ReplicaState


def replicas_to_sample(session: Session) -> list[tuple[uuid.UUID, uuid.UUID, str, bool]]:
    """(deployment id, host id, container id, readable) of every replica with a
    container: readable when it is recorded as running on a ready host (what a sampling
    tick reads); the others may have a kept sample to end."""
    rows = session.execute(
        select(Replica.deployment_id, Replica.host_id, Replica.container_id,
               (Replica.state == ReplicaState.RUNNING) & (Host.state == "ready"))
        .join(Host, Host.id == Replica.host_id)
        .where(Replica.container_id.is_not(None))
        .order_by(Replica.host_id, Replica.container_id)
    )
    return [(d, h, c, bool(readable)) for d, h, c, readable in rows]


def _latest(since: datetime, where=()):
    """The newest sample of each container since ``since``, as a subquery of ids."""
    newest = (
        select(UsageSample.container_id, func.max(UsageSample.sampled_at).label("at"))
        .where(UsageSample.sampled_at >= since, *where)
        .group_by(UsageSample.container_id)
        .subquery()
    )
    return select(UsageSample).join(
        newest, (newest.c.container_id == UsageSample.container_id)
        & (newest.c.at == UsageSample.sampled_at))


def latest(session: Session, container_ids: Iterable[str], since: datetime) -> dict[str, UsageSample]:
    """The newest sample of each of ``container_ids`` since ``since``."""
    ids = list(container_ids)
    if not ids:
        return {}
    out: dict[str, UsageSample] = {}
    for start in range(0, len(ids), 500):  # bound the IN list
        chunk = ids[start:start + 500]
        query = _latest(since, (UsageSample.container_id.in_(chunk),))
        out.update({s.container_id: s for s in session.scalars(query)})
    return out


def latest_of_replicas(
    session: Session, deployment_ids: Iterable[uuid.UUID], since: datetime
) -> list[UsageSample]:
    """The newest sample since ``since`` of each container that is still one of these
    deployments' replicas (a removed container's last samples wait for the purge)."""
    ids = list(deployment_ids)
    if not ids:
        return []
    current = select(Replica.container_id).where(Replica.deployment_id.in_(ids),
                                                 Replica.container_id.is_not(None))
    query = _latest(since, (UsageSample.deployment_id.in_(ids),
                            UsageSample.container_id.in_(current)))
    return list(session.scalars(query))


def totals_of(deployment_ids: Any, since: Any) -> Subquery:
    """(deployment_id, cpu_percent, memory_bytes, replicas, sampled_at): the newest sample
    since ``since`` of each container that is still one of these deployments' replicas,
    summed per deployment, in SQL (one row per deployment with a sample, not one object
    per replica). ``deployment_ids``: what ``IN`` takes (an expanding bind parameter, a
    subquery); the deployment views join it (app.repositories.deployments)."""
    sample, replica = UsageSample.__table__.c, Replica.__table__.c
    # Each replica's newest sample time as a correlated max() on the (container_id,
    # sampled_at) index: one index probe per replica on Postgres and SQLite alike, not a
    # scan of every sample in the window (a GROUP BY max read all of them, some 30 a
    # replica at the defaults: most of a deployment view's cost to the database).
    newest = UsageSample.__table__.alias("newer")
    newest_at = (select(func.max(newest.c.sampled_at))
                 .where(newest.c.container_id == replica.container_id,
                        newest.c.sampled_at >= since)
                 .scalar_subquery())
    # A replica no longer read has an end mark (a sample with no figures) as its newest:
    # it counts for nothing, and a deployment with only those has no totals.
    figures = or_(sample.cpu_percent.is_not(None), sample.memory_bytes.is_not(None))
    counted = func.count(case((figures, 1)))
    return (
        select(sample.deployment_id,
               func.coalesce(func.sum(sample.cpu_percent), 0.0).label("cpu_percent"),
               func.coalesce(func.sum(sample.memory_bytes), 0).label("memory_bytes"),
               counted.label("replicas"),
               func.max(case((figures, sample.sampled_at))).label("sampled_at"))
        .select_from(Replica.__table__)
        .join(UsageSample.__table__, (sample.container_id == replica.container_id)
              & (sample.deployment_id == replica.deployment_id)
              & (sample.sampled_at == newest_at))
        .where(replica.deployment_id.in_(deployment_ids), replica.container_id.is_not(None))
        .group_by(sample.deployment_id)
        .having(counted > 0)
        .subquery("usage_totals")
    )


# Built once: see deployments._VIEW_BY_NAME.
_TOTALS = totals_of(bindparam("deployment_ids", expanding=True), bindparam("since"))
_SUMMED_LATEST = select(_TOTALS)


def summed_latest(
    session: Session, deployment_ids: Iterable[uuid.UUID], since: datetime
) -> list[tuple[uuid.UUID, float, int, int, datetime]]:
    """(deployment id, CPU %, memory bytes, replicas, newest sample) of each of these
    deployments that has a fresh sample (``totals_of``)."""
    ids = list(deployment_ids)
    if not ids:
        return []
    rows = session.execute(_SUMMED_LATEST, {"deployment_ids": ids, "since": since})
    return [(d, float(cpu), int(mem), int(n), at) for d, cpu, mem, n, at in rows]


def latest_per_replica(session: Session, since: datetime) -> list[tuple[str, str, str, UsageSample]]:
    """(deployment name, replica container name, host name, newest sample) of every
    replica that has one: the per-replica series of /metrics."""
    samples = {s.container_id: s for s in session.scalars(_latest(since))}
    if not samples:
        return []
    rows = session.execute(
        select(Deployment.name, Replica.container_name, Host.name, Replica.container_id)
        .join(Deployment, Deployment.id == Replica.deployment_id)
        .join(Host, Host.id == Replica.host_id)
        .where(Replica.container_id.is_not(None))
        .order_by(Deployment.name, Replica.container_name)
    )
    return [(name, container_name, host, samples[cid])
            for name, container_name, host, cid in rows if cid in samples]


def window(session: Session, deployment_ids: Iterable[uuid.UUID], since: datetime
           ) -> dict[uuid.UUID, list[UsageSample]]:
    """Every sample of these deployments since ``since``, oldest first, by deployment."""
    ids = list(deployment_ids)
    out: dict[uuid.UUID, list[UsageSample]] = {d: [] for d in ids}
    if not ids:
        return out
    query = (select(UsageSample).where(UsageSample.deployment_id.in_(ids),
                                       UsageSample.sampled_at >= since)
             .order_by(UsageSample.sampled_at, UsageSample.id))
    for s in session.scalars(query):
        out[s.deployment_id].append(s)
    return out


def window_of_replicas(
    session: Session, deployment_id: uuid.UUID, since: datetime
) -> list[tuple[str, datetime, float | None, float | None]]:
    """(container id, sampled at, cpu %, memory %) of every sample since ``since`` of the
    deployment's current replicas, oldest first: what the autoscaler averages."""
    current = select(Replica.container_id).where(Replica.deployment_id == deployment_id,
                                                 Replica.container_id.is_not(None))
    rows = session.execute(
        select(UsageSample.container_id, UsageSample.sampled_at, UsageSample.cpu_percent,
               UsageSample.memory_percent)
        .where(UsageSample.deployment_id == deployment_id, UsageSample.sampled_at >= since,
               UsageSample.container_id.in_(current))
        .order_by(UsageSample.sampled_at, UsageSample.id))
    return [(c, at, cpu, memory) for c, at, cpu, memory in rows]


def current_containers(session: Session, deployment_id: uuid.UUID) -> list[str]:
    """The container ids of the deployment's replicas now."""
    return list(session.scalars(select(Replica.container_id).where(
        Replica.deployment_id == deployment_id, Replica.container_id.is_not(None))))


def add(session: Session, samples: list[UsageSample]) -> None:
    session.add_all(samples)
    session.flush()


def purge_before(session: Session, before: datetime) -> int:
    """Drop samples older than the window (an indexed range delete)."""
    result = session.execute(delete(UsageSample).where(UsageSample.sampled_at < before))
    return result.rowcount or 0  # type: ignore[attr-defined]
