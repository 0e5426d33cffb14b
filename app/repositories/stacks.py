"""Queries for stacks, their revisions and rollouts, and the deployments of their services."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Deployment, Replica, Rollout, Stack, StackRevision, StackRollout
from app.repositories.pagination import cut_page, decode_cursor

ACTIVE = ("pending", "in_progress")


def find(session: Session, stack_id: uuid.UUID) -> Stack | None:
    return session.get(Stack, stack_id)


def find_by_name(session: Session, name: str) -> Stack | None:
    return session.scalar(select(Stack).where(Stack.name == name))


def get_by_name(session: Session, name: str, *, for_update: bool = False) -> Stack:
    query = select(Stack).where(Stack.name == name)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    stack = session.scalar(query)
    if stack is None:
        raise NotFound(f"stack {name!r} does not exist")
    return stack


def lock(session: Session, stack_id: uuid.UUID) -> Stack | None:
    """The stack, locked for this transaction: one step (or change) at a time."""
    return session.scalar(select(Stack).where(Stack.id == stack_id).with_for_update()
                          .execution_options(populate_existing=True))


def page(session: Session, limit: int, cursor: str | None) -> tuple[list[Stack], str | None]:
    after = decode_cursor(cursor, Stack.name)
    query = select(Stack).order_by(Stack.name).limit(limit + 1)
    if after is not None:
        query = query.where(Stack.name > after)
    return cut_page(list(session.scalars(query)), limit, lambda s: s.name)


def revision(session: Session, stack_id: uuid.UUID, number: int) -> StackRevision:
    rev = session.scalar(select(StackRevision).where(
        StackRevision.stack_id == stack_id, StackRevision.number == number))
    if rev is None:
        raise NotFound(f"stack revision {number} does not exist")
    return rev


def next_revision_number(session: Session, stack_id: uuid.UUID) -> int:
    return (session.scalar(select(func.max(StackRevision.number))
                           .where(StackRevision.stack_id == stack_id)) or 0) + 1


def revisions_page(session: Session, stack_id: uuid.UUID, limit: int,
                   cursor: str | None) -> tuple[list[StackRevision], str | None]:
    after = decode_cursor(cursor, StackRevision.number)
    query = (select(StackRevision).where(StackRevision.stack_id == stack_id)
             .order_by(StackRevision.number.desc()).limit(limit + 1))
    if after is not None:
        query = query.where(StackRevision.number < after)
    return cut_page(list(session.scalars(query)), limit, lambda r: r.number)


def active_rollouts(session: Session, stack_id: uuid.UUID) -> list[StackRollout]:
    return list(session.scalars(
        select(StackRollout).where(StackRollout.stack_id == stack_id,
                                   StackRollout.state.in_(ACTIVE))
        .order_by(StackRollout.created_at.desc(), StackRollout.id.desc())))


def latest_rollouts(session: Session, stack_ids: list[uuid.UUID]) -> dict[uuid.UUID, StackRollout]:
    """Each stack's newest rollout, in one statement."""
    if not stack_ids:
        return {}
    rows = session.scalars(select(StackRollout).where(StackRollout.stack_id.in_(stack_ids))
                           .order_by(StackRollout.created_at.desc(), StackRollout.id.desc()))
    latest: dict[uuid.UUID, StackRollout] = {}
    for r in rows:
        assert r.stack_id is not None
        latest.setdefault(r.stack_id, r)
    return latest


def find_rollout(session: Session, rollout_id: uuid.UUID) -> StackRollout | None:
    return session.get(StackRollout, rollout_id)


def last_succeeded_revision(session: Session, stack_id: uuid.UUID, exclude: int) -> int | None:
    """The revision the most recent successful release reached (other than ``exclude``)."""
    return session.scalar(
        select(StackRollout.to_revision)
        .where(StackRollout.stack_id == stack_id, StackRollout.state == "succeeded",
               StackRollout.to_revision != exclude, StackRollout.kind != "delete")
        .order_by(StackRollout.created_at.desc(), StackRollout.id.desc()).limit(1))


def services(session: Session, stack_ids: list[uuid.UUID]) -> list[Deployment]:
    """The deployments of these stacks' services, by name."""
    if not stack_ids:
        return []
    return list(session.scalars(select(Deployment).where(Deployment.stack_id.in_(stack_ids))
                                .order_by(Deployment.name)))


def rollouts_by_id(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Rollout]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(Rollout).where(Rollout.id.in_(ids)))}


def completed(session: Session, deployments: list[Deployment]) -> set[uuid.UUID]:
    """Those with a container of their current revision that exited with status 0."""
    if not deployments:
        return set()
    current = {d.id: d.revision for d in deployments}
    rows = session.execute(select(Replica.deployment_id, Replica.revision).where(
        Replica.deployment_id.in_(list(current)), Replica.state == "exited",
        Replica.exit_code == 0))
    return {d for d, rev in rows if current.get(d) == rev}


def ids_due_a_step(session: Session) -> list[uuid.UUID]:
    """Stacks whose release (or delete) is under way: the resync's safety net."""
    return list(session.scalars(select(StackRollout.stack_id).where(
        StackRollout.state.in_(ACTIVE), StackRollout.stack_id.is_not(None)).distinct()))


def mark_step_queued(session: Session, ids: list[uuid.UUID], now: datetime,
                     stale_before: datetime) -> list[uuid.UUID]:
    """As deployments.mark_job_queued: at most one step job per stack waits."""
    if not ids:
        return []
    result = session.execute(
        update(Stack).where(Stack.id.in_(ids), or_(Stack.step_queued_at.is_(None),
                                                   Stack.step_queued_at < stale_before))
        .values(step_queued_at=now).returning(Stack.id)
        .execution_options(synchronize_session=False))
    return list(result.scalars())


def unmark_step_queued(session: Session, ids: list[uuid.UUID]) -> None:
    session.execute(update(Stack).where(Stack.id.in_(ids)).values(step_queued_at=None)
                    .execution_options(synchronize_session=False))


def current_revisions(session: Session, stacks: list[Stack]) -> dict[uuid.UUID, StackRevision]:
    """Each stack's current revision, in one statement."""
    if not stacks:
        return {}
    wanted = {(s.id, s.revision) for s in stacks}
    rows = session.scalars(select(StackRevision).where(
        StackRevision.stack_id.in_([s.id for s in stacks])).where(
        StackRevision.number.in_({s.revision for s in stacks})))
    return {r.stack_id: r for r in rows if (r.stack_id, r.number) in wanted}


def claiming(session: Session, deployment_name: str) -> Stack | None:
    """The stack whose current revision has a service of that deployment name, made or
    not yet (a release makes a service's deployment when it steps to it). A service's
    deployment is named ``<stack>-<service>``, so only a stack named by a part of it up to
    a dash can: a lookup of those few by name, whatever the number of stacks."""
    prefixes = [deployment_name[:i] for i, c in enumerate(deployment_name) if c == "-" and i]
    if not prefixes:
        return None
    stacks = list(session.scalars(select(Stack).where(Stack.name.in_(prefixes))))
    revisions = current_revisions(session, stacks)
    for stack in stacks:
        rev = revisions.get(stack.id)
        if rev is not None and any(e.get("deployment") == deployment_name for e in rev.services):
            return stack
    return None
