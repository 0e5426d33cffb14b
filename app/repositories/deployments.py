from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, Select, and_, any_, bindparam, case, func, not_, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from app.db import kept_json, select_rows
from app.errors import NotFound
from app.models import Deployment, Replica, Revision, Rollout, Stack
from app.repositories import usage as usage_repo
from app.repositories.pagination import cut_page, decode_cursor
from app.sealing import sealed_keys


class RolloutRow(NamedTuple):
    """A rollout's columns, as the deployment views read them (what
    app.api.presenters.rollout shows of a Rollout)."""

    id: uuid.UUID
    deployment_name: str
    kind: str
    from_revision: int | None
    to_revision: int
    state: str
    desired: int
    updated: int
    ready: int
    unavailable: int
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UsageRow(NamedTuple):
    """Its current replicas' newest samples, summed (app.repositories.usage.totals_of)."""

    cpu_percent: float
    memory_bytes: int
    replicas: int
    sampled_at: datetime | None


class DeploymentView(NamedTuple):
    """A deployment whole, as the API shows it, read in one statement (one snapshot), so
    a concurrent delete leaves it out, never half there: its own columns, its current
    revision's public spec and secrets' names, its latest rollout, the stack it is a
    service of, and its usage.

    Column values, not ORM objects: loading three entities a row (with every column,
    JSON decoded, the secrets opened) was most of a page's time. The first fields are
    the deployment's columns of the same names."""

    id: uuid.UUID
    name: str
    revision: int
    resource_version: int
    phase: str
    replicas: int
    autoscale: dict[str, Any] | None
    ready_replicas: int
    updated_replicas: int
    unavailable_replicas: int
    observed_revision: int | None
    message: str
    conditions: list[dict[str, Any]] | None
    endpoint_listen_port: int | None
    endpoint_state: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    spec: dict[str, Any]  # the current revision's public spec
    secret_keys: list[str]  # the names of its secrets (their values are never read here)
    stack: str | None  # the name of the stack it is a service of
    rollout: RolloutRow | None  # the latest
    usage: UsageRow | None  # None: no replica sampled lately


def get_by_name(session: Session, name: str, *, for_update: bool = False) -> Deployment:
    deployment = find_by_name(session, name, for_update=for_update)
    if deployment is None:
        raise NotFound(f"deployment {name!r} does not exist")
    return deployment


# Built once (see _VIEW_BY_NAME).
_BY_NAME = select(Deployment).where(Deployment.name == bindparam("by_name"))
# populate_existing: the row as it is once locked. Without it a deployment this session
# read before (unlocked) keeps its stale attributes, so two concurrent applies with the
# same If-Match would both pass and one update would be lost.
_BY_NAME_LOCKED = _BY_NAME.with_for_update().execution_options(populate_existing=True)


def find_by_name(session: Session, name: str, *, for_update: bool = False) -> Deployment | None:
    return session.scalar(_BY_NAME_LOCKED if for_update else _BY_NAME, {"by_name": name})


def find(session: Session, deployment_id: uuid.UUID, for_update: bool = False) -> Deployment | None:
    """``for_update``: the row locked FOR NO KEY UPDATE, which serialises with every other
    writer of the deployment but not with rows that only refer to it (an event's insert
    takes FOR KEY SHARE), so the heartbeat, which inserts events for deployments while it
    holds the hosts, never waits on a pass that holds the deployment."""
    if for_update:
        return session.get(Deployment, deployment_id, with_for_update={"key_share": True},
                           populate_existing=True)
    return session.get(Deployment, deployment_id)


def find_with_revision(
    session: Session, deployment_id: uuid.UUID
) -> tuple[Deployment, Revision] | None:
    """The deployment and its current revision in one statement: None if it is gone."""
    row = session.execute(
        select(Deployment, Revision)
        .join(Revision, (Revision.deployment_id == Deployment.id)
              & (Revision.number == Deployment.revision))
        .where(Deployment.id == deployment_id)
    ).first()
    return (row[0], row[1]) if row else None


_D, _REV, _RO, _STACK = (m.__table__.c for m in (Deployment, Revision, Rollout, Stack))
_VIEW_COLUMNS = [kept_json(_D[f]) if isinstance(_D[f].type, JSON) else _D[f]
                 for f in DeploymentView._fields[:DeploymentView._fields.index("spec")]]
_ROLLOUT_COLUMNS = [_RO[f] for f in RolloutRow._fields]


def _views(*where: Any, paged: bool = False) -> Select:
    """The views of the deployments ``where`` picks (with ``paged``: the first
    ``page_limit`` by name), their usage since ``usage_since`` beside them.

    Core columns, not ORM entities: rows of values, no identity map, only what a view
    shows (no template, no registry password, no reconciler bookkeeping). The revision's
    secrets come as stored (sealed): app.sealing.sealed_keys gives their names and opens
    each sealed value once a process, not on every read. The usage is summed for the
    deployments picked only (the CTE), in the same statement."""
    latest_rollout = (
        select(_RO.id)
        .where(_RO.deployment_id == _D.id)
        .order_by(_RO.created_at.desc(), _RO.id.desc())
        .limit(1)
        .correlate(Deployment.__table__)
        .scalar_subquery()
    )
    # The latest rollout's id is picked per deployment (one probe of its index), then its
    # row joined by primary key: as a join condition the subquery made Postgres hash the
    # whole rollout table for every read (a page took 50 ms at 200 rollouts each).
    picked = (
        select(*_VIEW_COLUMNS, kept_json(_REV.spec), kept_json(_REV.secrets).label("sealed_secrets"),
               _STACK.name.label("stack"), latest_rollout.label("latest_rollout_id"))
        .join_from(Deployment.__table__, Revision.__table__,
                   (_REV.deployment_id == _D.id) & (_REV.number == _D.revision))
        .outerjoin(Stack.__table__, _STACK.id == _D.stack_id)
        .where(*where)
    )
    if paged:
        picked = picked.order_by(_D.name).limit(bindparam("page_limit"))
    page = picked.cte("page")
    usage = usage_repo.totals_of(select(page.c.id), bindparam("usage_since"))
    return (
        select(*(c for c in page.c if c.name != "latest_rollout_id"),
               *(c.label(f"rollout_{c.name}") for c in _ROLLOUT_COLUMNS),
               usage.c.cpu_percent, usage.c.memory_bytes, usage.c.replicas, usage.c.sampled_at)
        .select_from(page)
        .outerjoin(Rollout.__table__, _RO.id == page.c.latest_rollout_id)
        .outerjoin(usage, usage.c.deployment_id == page.c.id)
        .order_by(page.c.name)
    )


_N_VIEW = len(_VIEW_COLUMNS)
_N_ROLLOUT = len(_ROLLOUT_COLUMNS)


def _as_views(rows: list[tuple]) -> list[DeploymentView]:
    views = []
    for row in rows:
        at = _N_VIEW + 3  # after spec, sealed_secrets, stack
        spec, sealed, stack = row[_N_VIEW:at]
        rollout = row[at:at + _N_ROLLOUT]
        cpu, memory, replicas, sampled_at = row[at + _N_ROLLOUT:]
        views.append(DeploymentView(
            *row[:_N_VIEW], spec, sealed_keys(sealed), stack,
            RolloutRow(*rollout) if rollout[0] is not None else None,
            # On Postgres a sum of bigints is a numeric (a Decimal).
            UsageRow(float(cpu), int(memory), int(replicas), sampled_at)
            if replicas else None))
    return views


# Built once: building a statement and its cache key cost more CPU than the rest of a
# GET's SQLAlchemy work (about 0.5 ms a request here). Bind parameters only, so the SQL
# is the same text every time (psycopg prepares it on each connection after 5 uses).
_LABEL = _D.labels[bindparam("label_key", type_=JSON.JSONStrIndexType)].as_string() == bindparam("label_value")
_VIEW_BY_NAME = _views(_D.name == bindparam("view_name"))
_VIEW_BY_ID = _views(_D.id == bindparam("view_id"))
# Postgres: = ANY(array), one statement text whatever the number of names.
_VIEWS_BY_NAMES = _views(_D.name == any_(bindparam("view_names", type_=ARRAY(_D.name.type))))
_PAGES = {
    (after, label): _views(*([_D.name > bindparam("after")] if after else []),
                           *([_LABEL] if label else []), paged=True)
    for after in (False, True) for label in (False, True)
}


def views_by_names(session: Session, names: list[str], usage_since: datetime,
                   ) -> list[DeploymentView]:
    """The views of those of ``names`` that exist, by name: one statement on Postgres.
    ``usage_since``: samples older than this are not counted (a replica not sampled
    lately shows none rather than an old figure)."""
    if session.get_bind().dialect.name != "postgresql":
        return [v for name in sorted(set(names)) for v in _as_views(select_rows(
            session, _VIEW_BY_NAME, {"view_name": name, "usage_since": usage_since}))]
    return _as_views(select_rows(session, _VIEWS_BY_NAMES, {"view_names": list(names),
                                                            "usage_since": usage_since}))


def view(session: Session, deployment_id: uuid.UUID, usage_since: datetime) -> DeploymentView | None:
    """What this session has changed included (flushed first: a Core statement does not
    autoflush)."""
    session.flush()
    views = _as_views(select_rows(session, _VIEW_BY_ID, {"view_id": deployment_id,
                                                         "usage_since": usage_since}))
    return views[0] if views else None


def views_page(
    session: Session, limit: int, cursor: str | None, label: tuple[str, str] | None,
    usage_since: datetime,
) -> tuple[list[DeploymentView], str | None]:
    """A page of whole deployments in one statement, whatever its size. One deleted
    meanwhile is left out. ``label``: (key, value) of a label to filter by, in SQL (->>
    on Postgres, json_extract on SQLite), whatever the number of deployments."""
    after = decode_cursor(cursor, Deployment.name)
    params: dict[str, Any] = {"page_limit": limit + 1, "usage_since": usage_since}
    if after is not None:
        params["after"] = after
    if label is not None:
        params["label_key"], params["label_value"] = label
    rows = select_rows(session, _PAGES[after is not None, label is not None], params)
    return cut_page(_as_views(rows), limit, lambda v: v.name)


def revision(session: Session, deployment_id: uuid.UUID, number: int) -> Revision:
    rev = session.scalar(
        select(Revision).where(Revision.deployment_id == deployment_id, Revision.number == number)
    )
    if rev is None:
        raise NotFound(f"revision {number} does not exist")
    return rev


_NUMBERS = aliased(Revision)
# Built once (see _VIEW_BY_NAME).
_REVISION_AND_LAST = (
    select(Revision, select(func.max(_NUMBERS.number))
           .where(_NUMBERS.deployment_id == Revision.deployment_id).scalar_subquery())
    .where(Revision.deployment_id == bindparam("rev_deployment"),
           Revision.number == bindparam("rev_number"))
)


def revision_and_last_number(session: Session, deployment_id: uuid.UUID,
                             number: int) -> tuple[Revision, int]:
    """Revision ``number`` and the highest revision number of the deployment, in one
    statement. Read after the deployment is locked (revisions are made only under its
    lock), so the next number is the highest plus one."""
    row = session.execute(_REVISION_AND_LAST,
                          {"rev_deployment": deployment_id, "rev_number": number}).first()
    if row is None:
        raise NotFound(f"revision {number} does not exist")
    return row[0], row[1]


def revisions_page(
    session: Session, deployment_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Revision], str | None]:
    after = decode_cursor(cursor, Revision.number)
    query = (
        select(Revision)
        .where(Revision.deployment_id == deployment_id)
        .order_by(Revision.number.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(Revision.number < after)
    rows = list(session.scalars(query))
    return cut_page(rows, limit, lambda r: r.number)


def settled():
    """Settled: its last pass converged with nothing timed left to do, and left it to the
    drift check (app.services.drift), which looks at all of them with one listing per
    host, rather than to a pass of its own: no next_reconcile_at, and the desired state
    it reached is still the one wanted. A change of desired state unsettles it (apply
    bumps the generation and clears next_reconcile_at), and so does a wake that must
    survive a lost job (next_reconcile_at set to now)."""
    return and_(Deployment.next_reconcile_at.is_(None),
                Deployment.observed_generation == Deployment.generation,
                Deployment.deleting.is_(False))


def due(now: datetime):
    """Due a look: its next_reconcile_at has come, or it has none and is not settled."""
    return or_(Deployment.next_reconcile_at <= now,
               and_(Deployment.next_reconcile_at.is_(None), not_(settled())))


def ids_due_for_reconcile(session: Session, now: datetime) -> list[uuid.UUID]:
    """Due a look and held by no worker, oldest due first (a fair order for the resync).
    Settled deployments are not: the drift check wakes those the engines contradict."""
    query = select(Deployment.id).where(
        or_(Deployment.lease_expires_at.is_(None), Deployment.lease_expires_at < now),
        due(now),
    ).order_by(Deployment.next_reconcile_at.asc().nulls_first(), Deployment.id)
    return list(session.scalars(query))


def settled_replicas(session: Session) -> list[tuple[uuid.UUID, int, str | None, str | None, str]]:
    """(deployment id, desired replicas, host id, container id, state) of every settled
    deployment, one row per replica (host id None for one with none). One statement."""
    rows = session.execute(
        select(Deployment.id, Deployment.replicas, Replica.host_id, Replica.container_id,
               Replica.state)
        .outerjoin(Replica, Replica.deployment_id == Deployment.id)
        .where(settled())
    )
    return [(d, n, h, c, s) for d, n, h, c, s in rows]


def mark_due_now(session: Session, ids: list[uuid.UUID] | set[uuid.UUID], now: datetime) -> None:
    """Unsettle: due a pass now, so a job lost on its way is sent again by the resync."""
    if ids:
        session.execute(
            update(Deployment).where(Deployment.id.in_(list(ids))).values(next_reconcile_at=now)
            .execution_options(synchronize_session=False)
        )


def mark_job_queued(
    session: Session, ids: list[uuid.UUID], now: datetime, stale_before: datetime
) -> list[uuid.UUID]:
    """Mark each deployment as having a job in the broker, unless one is already there;
    the ids returned are those that need a job sent. A mark older than ``stale_before`` is
    taken for a lost message (a flushed broker) and replaced."""
    if not ids:
        return []
    result = session.execute(
        update(Deployment)
        .where(
            Deployment.id.in_(ids),
            or_(Deployment.job_queued_at.is_(None), Deployment.job_queued_at < stale_before),
        )
        .values(job_queued_at=now)
        .returning(Deployment.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def unmark_job_queued(session: Session, ids: list[uuid.UUID]) -> None:
    """The job was picked up (or could not be sent): the next request sends a new one."""
    session.execute(
        update(Deployment).where(Deployment.id.in_(ids)).values(job_queued_at=None)
        .execution_options(synchronize_session=False)
    )


def ask_holder_to_look_again(session: Session, deployment_id: uuid.UUID, now: datetime) -> bool:
    """If another worker holds a live lease, have it look again when it ends (True).
    False: nobody holds it (any more), and the caller may take the lease itself."""
    result = session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id, Deployment.lease_owner.is_not(None),
               Deployment.lease_expires_at >= now)
        .values(look_again=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _lease_free_for(owner: str, now: datetime):
    """No one holds the lease, or ``owner`` does, or it expired: ``owner`` may take it."""
    return or_(Deployment.lease_owner.is_(None), Deployment.lease_owner == owner,
               Deployment.lease_expires_at < now)


def try_acquire_lease(
    session: Session, deployment_id: uuid.UUID, owner: str, now: datetime, until: datetime
) -> bool:
    """Atomic compare-and-set: works the same on Postgres and SQLite."""
    result = session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id, _lease_free_for(owner, now))
        .values(lease_owner=owner, lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def pick_up_job_and_try_lease(
    session: Session, deployment_id: uuid.UUID, owner: str, now: datetime, until: datetime
) -> bool:
    """A worker's first statement for a job: the job is picked up (its mark cleared, as
    `unmark_job_queued`, whoever holds the lease) and the lease taken if it is free, as
    `try_acquire_lease`; one round trip and one commit instead of two of each. The CASEs
    read the row as it was, so the lease is taken only where it was free."""
    free = _lease_free_for(owner, now)
    row = session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id)
        .values(job_queued_at=None,
                lease_owner=case((free, owner), else_=Deployment.lease_owner),
                lease_expires_at=case((free, until), else_=Deployment.lease_expires_at))
        .returning(Deployment.lease_owner)
        .execution_options(synchronize_session=False)
    ).first()
    return row is not None and row[0] == owner  # an owner's own lease counts as free


def release_lease(session: Session, deployment_id: uuid.UUID, owner: str) -> Deployment | None:
    """Give the lease up; the row as it was, locked, so a look-again request made while we
    held the lease is either seen here or finds the lease free and takes it."""
    deployment = session.scalar(
        select(Deployment).where(Deployment.id == deployment_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if deployment is None:
        return None
    if deployment.lease_owner == owner:
        deployment.lease_owner = None
        deployment.lease_expires_at = None
    return deployment


def lock_existing(session: Session, ids: list[uuid.UUID] | set[uuid.UUID]) -> list[uuid.UUID]:
    """Those of ``ids`` that still exist, held (FOR KEY SHARE) so none is deleted before
    this transaction ends: rows that refer to them can be inserted safely."""
    if not ids:
        return []
    query = (select(Deployment.id).where(Deployment.id.in_(list(ids))).order_by(Deployment.id)
             .with_for_update(read=True, key_share=True))
    return list(session.scalars(query))


def all_ids(session: Session) -> set[str]:
    return {str(i) for i in session.scalars(select(Deployment.id))}


def secret_values(session: Session, deployment_id: uuid.UUID, numbers: set[int]) -> list[str]:
    """The secret values of these revisions (opened: each is registered for redaction)."""
    if not numbers:
        return []
    rows = session.scalars(select(Revision).where(
        Revision.deployment_id == deployment_id, Revision.number.in_(numbers)))
    return [value for rev in rows for value in (rev.secrets or {}).values()]
