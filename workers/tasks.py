"""Tasks are plumbing: parse ids, call the service, map failures to retries."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from celery import Task
from sqlalchemy.exc import OperationalError

from app.config import get_settings
from app.db import session_scope, utcnow
from app.jobs import (
    DRIFT_TASK,
    EDGES_TASK,
    HEARTBEAT_TASK,
    ORPHANS_TASK,
    PURGE_TASK,
    RECONCILE_TASK,
    RESYNC_TASK,
    STACK_STEP_TASK,
    USAGE_TASK,
    get_celery,
    request_reconcile,
    request_stack_steps,
    stack_step_picked_up,
    waiting_reconciles,
)
from app.repositories import deployments as deployment_repo
from app.repositories import stacks as stack_repo
from app.services import autoscaler, drift, retention, usage
from app.services import edge as edge_service
from app.services import hosts as host_service
from app.services import stacks as stack_service
from app.services.reconciler import Reconciler

log = logging.getLogger(__name__)
celery = get_celery()


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@celery.task(name=RECONCILE_TASK, bind=True, acks_late=True, max_retries=None)
def reconcile(self: Task, deployment_id: str) -> None:
    try:
        Reconciler(owner=worker_identity()).run(uuid.UUID(deployment_id))
    except OperationalError as exc:  # the database is away: try again, gently
        raise self.retry(exc=exc, countdown=min(60, 2 ** min(self.request.retries, 6))) from exc


@celery.task(name=STACK_STEP_TASK, bind=True, acks_late=True, max_retries=None)
def stack_step(self: Task, stack_id: str, chain: bool = True) -> None:
    """One step of a stack's release; the next is sent, delayed, while one is under way.
    ``chain=False``: an extra look (a service's rollout ended), which sends no next one."""
    sid = uuid.UUID(stack_id)
    try:
        if chain:
            stack_step_picked_up(sid)
        wait = stack_service.step(sid)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=min(60, 2 ** min(self.request.retries, 6))) from exc
    if wait is not None and chain:
        request_stack_steps([sid], delay_s=wait)


@celery.task(name=RESYNC_TASK, acks_late=True, expires=30)
def resync() -> int:
    """Level-triggered safety net: every deployment due a look gets a reconcile job."""
    with session_scope() as session:
        due = deployment_repo.ids_due_for_reconcile(session, utcnow())
        releasing = stack_repo.ids_due_a_step(session)
    request_stack_steps(releasing)  # those with a step waiting are absorbed
    # Those with a job still waiting are absorbed: a busy worker never gets a pile-up. A
    # mark is taken for a lost message (a flushed broker) only when the queue is empty:
    # while it is not, the job is late, not lost.
    waiting = waiting_reconciles()
    return request_reconcile(due, replace_stale=not waiting)


@celery.task(name=DRIFT_TASK, acks_late=True, expires=30)
def drift_check() -> int:
    """Settled deployments the engines contradict get a pass (app.services.drift)."""
    return drift.check()


@celery.task(name=HEARTBEAT_TASK, acks_late=True, expires=30)
def heartbeat(only: list[str] | None = None) -> None:
    """A tick (every host), or with ``only`` a check of those hosts between ticks."""
    beat = host_service.heartbeat_all(only)
    # A host came, went or was declared lost, or a container died or was removed: those
    # deployments look now, not at their next drift check.
    request_reconcile(beat.wake)
    # A host whose grace ends before the next tick is checked at that moment itself, so
    # its replicas move when the grace is over, not up to a tick later.
    for name, at in beat.recheck.items():
        countdown = max(0.0, (at - utcnow()).total_seconds())
        try:
            heartbeat.apply_async(kwargs={"only": [name]}, countdown=countdown,
                                  expires=countdown + 30)
        except Exception:  # the broker is away: the next tick decides, a little later
            log.warning("could not schedule a liveness check of %s", name, exc_info=True)


@celery.task(name=PURGE_TASK, acks_late=True, expires=120)
def purge() -> dict[str, int]:
    """Retention: old events, rollouts, deliveries and Idempotency-Keys, in bounded batches."""
    purged = retention.purge(get_settings())
    if any(purged.values()):
        log.info("purged %s", ", ".join(f"{n} {kind}" for kind, n in purged.items() if n))
    return purged


@celery.task(name=ORPHANS_TASK, acks_late=True, expires=60)
def collect_orphans() -> int:
    return host_service.collect_orphans()


@celery.task(name=USAGE_TASK, acks_late=True, expires=30)
def sample_usage() -> int:
    """Every running replica's CPU and memory, then the autoscaler's look at them."""
    tick = usage.sample_all()
    if tick.missed:
        log.info("usage: %d samples from %d hosts in %.2fs, %d missed", tick.sampled,
                 tick.hosts, tick.seconds, tick.missed)
    autoscaler.look_at_all()
    return tick.sampled


@celery.task(name=EDGES_TASK, acks_late=True, expires=30)
def reconcile_edges() -> dict[str, str]:
    """Every edge's proxy runs, from the configured image, with its config from the
    database; one lost, restarted or outdated is brought back. Returns edges that failed."""
    return edge_service.sync(get_settings())
