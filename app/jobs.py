"""The Celery app and the only way anything asks workers to look at a deployment.

A job carries an id and nothing else: it means "look at X now". Jobs are sent after the
transaction that made them necessary commits; a lost one is found by the periodic resync.

At most one job per deployment waits in the broker (``deployment.job_queued_at``): a
request while one waits is absorbed, since that job will see the latest state anyway. So
a busy deployment cannot flood the queue, the queue is bounded by the number of
deployments, and FIFO order is fair between them. A mark older than
``job_redeliver_s`` is taken for a lost message (a flushed Redis) and sent again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from celery import Celery
from kombu import Queue
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import call_after_commit, session_scope, utcnow
from app.models import Deployment
from app.repositories import deployments as deployment_repo
from app.repositories import stacks as stack_repo

log = logging.getLogger(__name__)

RECONCILE_TASK = "deployments.reconcile"
RESYNC_TASK = "deployments.resync"
HEARTBEAT_TASK = "hosts.heartbeat"
ORPHANS_TASK = "hosts.collect_orphans"
PURGE_TASK = "maintenance.purge"
USAGE_TASK = "usage.sample"
EDGES_TASK = "edges.reconcile"
STACK_STEP_TASK = "stacks.step"
DRIFT_TASK = "deployments.drift"


PERIODIC_TASKS = (RESYNC_TASK, HEARTBEAT_TASK, ORPHANS_TASK, PURGE_TASK, USAGE_TASK,
                  EDGES_TASK, DRIFT_TASK)


def periodic_queue(settings: Settings) -> str:
    return f"{settings.queue}.periodic"


def make_celery(settings: Settings) -> Celery:
    app = Celery("moorage", broker=settings.effective_broker_url)
    periodic = periodic_queue(settings)
    conf: dict = {
        "task_default_queue": settings.queue,
        # Heartbeats and the resync have a queue of their own, which every worker also
        # consumes: however long the reconcile queue grows, hosts are still pinged.
        "task_queues": (Queue(settings.queue), Queue(periodic)),
        "task_routes": {name: {"queue": periodic} for name in PERIODIC_TASKS},
        "task_acks_late": True,  # a killed worker's job is redelivered, not lost
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        # A broker outage must not end a worker, however long it lasts: retry for ever
        # (Celery gives up after 100 tries by default, some 45 minutes, and exits).
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        # A reconcile in flight needs only the database and the engines: when the broker
        # goes, let it finish rather than kill it mid-action. (Its message stays
        # unacknowledged and may run again later; the lease makes that harmless.)
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            "resync": {"task": RESYNC_TASK, "schedule": settings.resync_interval_s},
            # Settled deployments' drift check: one listing per host (app.services.drift).
            "drift": {"task": DRIFT_TASK, "schedule": settings.drift_check_interval_s},
            "heartbeat": {"task": HEARTBEAT_TASK, "schedule": settings.heartbeat_interval_s},
            "orphans": {"task": ORPHANS_TASK, "schedule": settings.orphan_interval_s},
            "purge": {"task": PURGE_TASK, "schedule": settings.purge_interval_s},
            # A tick not begun by the one after next is stale: dropped, not queued behind.
            "usage": {"task": USAGE_TASK, "schedule": settings.usage_interval_s,
                      "options": {"expires": max(2 * settings.usage_interval_s, 5.0)}},
            # The edge proxies: a lost or restarted one is given its config again.
            "edges": {"task": EDGES_TASK, "schedule": settings.heartbeat_interval_s},
        },
    }
    if settings.effective_broker_url.startswith("filesystem://"):
        folder = settings.broker_folder
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        conf["broker_transport"] = "app.embedded_broker:Transport"  # whole messages only
        conf["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # Its exchange table, which kombu would otherwise write to ./control.
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": settings.broker_poll_interval_s,
        }
    else:
        conf["broker_transport_options"] = {
            # Redelivery of a job whose worker died; the lease and resync cover the rest.
            "visibility_timeout": 300,
            # A broker that vanishes without closing the connection (a failover, a
            # firewall) must not hang a publish, the API's or beat's, for ever; and a
            # consumer drops a BRPOP that got no reply in 1 + 10 s (kombu >= 5.7).
            "socket_connect_timeout": 5,
            "socket_timeout": 10,
            "socket_keepalive": True,
            "health_check_interval": 10,
        }
    app.conf.update(conf)
    return app


@lru_cache
def get_celery() -> Celery:
    return make_celery(get_settings())


def _send(ids: list[uuid.UUID], delay_s: float | None = None) -> None:
    celery = get_celery()
    unsent = []
    for deployment_id in ids:
        try:
            celery.send_task(RECONCILE_TASK, args=[str(deployment_id)], countdown=delay_s or None)
        except Exception:  # the broker is away; unmark, so the resync sends it when it is back
            log.warning("could not send a reconcile job for %s", deployment_id, exc_info=True)
            unsent.append(deployment_id)
    if unsent:
        try:
            with session_scope() as session:
                deployment_repo.unmark_job_queued(session, unsent)
        except Exception:  # the mark goes stale instead, and the resync sends it then
            log.warning("could not unmark %d unsent jobs", len(unsent), exc_info=True)


def _claim(session: Session, ids: list[uuid.UUID], *, replace_stale: bool = True) -> list[uuid.UUID]:
    now = utcnow()
    if replace_stale:
        stale = now - timedelta(seconds=get_settings().job_redeliver_s)
    else:
        stale = datetime.min.replace(tzinfo=UTC)  # no mark is old enough
    return deployment_repo.mark_job_queued(session, ids, now, stale)


def enqueue_reconcile(session: Session, deployment_id: uuid.UUID) -> None:
    """In the caller's transaction: a job for the deployment, sent once that commits,
    unless one is already waiting."""
    claimed = _claim(session, [deployment_id])
    if claimed:
        call_after_commit(session, lambda: _send(claimed))


def enqueue_reconcile_locked(session: Session, deployment: Deployment) -> None:
    """The same for a deployment the caller's transaction holds locked, as read once
    locked (``FOR UPDATE``, ``populate_existing``): its mark is current, and nobody can
    change it before this transaction ends, so it is decided here and written with the
    transaction's own update of the row, not by a statement of its own."""
    now = utcnow()
    stale = now - timedelta(seconds=get_settings().job_redeliver_s)
    if deployment.job_queued_at is not None and deployment.job_queued_at >= stale:
        return  # a job waits in the broker: it will see this change
    deployment.job_queued_at = now
    deployment_id = deployment.id
    call_after_commit(session, lambda: _send([deployment_id]))


def request_reconcile(ids: Iterable[uuid.UUID], *, delay_s: float | None = None,
                      replace_stale: bool = True) -> int:
    """Outside a transaction (resync, heartbeats, the reconciler): the same, at once, or
    due in ``delay_s`` (the broker holds it; no worker waits for it). ``replace_stale``:
    take an old mark for a lost message and send again. Returns how many were sent."""
    ids = list(ids)
    if not ids:
        return 0
    with session_scope() as session:
        claimed = _claim(session, ids, replace_stale=replace_stale)
    _send(claimed, delay_s)
    return len(claimed)


def waiting_reconciles() -> int | None:
    """Reconcile jobs waiting in the broker for a worker (None: the broker did not say).
    Cheap (one LLEN on Redis): a running reconcile asks it between passes."""
    try:
        with get_celery().pool.acquire(block=True, timeout=2) as conn:
            declared = conn.default_channel.queue_declare(
                queue=get_settings().queue, durable=True, auto_delete=False)
            return int(declared.message_count)
    except Exception:  # any failure: unknown, and the caller assumes the worst case
        log.debug("could not count waiting jobs", exc_info=True)
        return None


def check_broker() -> str | None:
    """None when the broker accepts a connection, else a short reason."""
    try:
        with get_celery().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:  # any failure means "not ready"
        return exc.__class__.__name__


# ---- stacks --------------------------------------------------------------------------
# A stack's release is driven by "step" jobs (app.services.stacks.step), one waiting per
# stack at most, like reconcile jobs: a step that is not done sends the next one itself,
# delayed; the resync sends one for every stack whose release is under way.


def _send_steps(ids: list[uuid.UUID], delay_s: float | None = None) -> None:
    celery = get_celery()
    unsent = []
    for stack_id in ids:
        try:
            celery.send_task(STACK_STEP_TASK, args=[str(stack_id)], countdown=delay_s or None)
        except Exception:  # the broker is away: the resync sends it when it is back
            log.warning("could not send a step job for stack %s", stack_id, exc_info=True)
            unsent.append(stack_id)
    if unsent:
        try:
            with session_scope() as session:
                stack_repo.unmark_step_queued(session, unsent)
        except Exception:
            log.warning("could not unmark %d unsent step jobs", len(unsent), exc_info=True)


def _claim_steps(session: Session, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    now = utcnow()
    stale = now - timedelta(seconds=get_settings().job_redeliver_s)
    return stack_repo.mark_step_queued(session, ids, now, stale)


def enqueue_stack_step(session: Session, stack_id: uuid.UUID) -> None:
    """In the caller's transaction: a step for the stack, sent once that commits."""
    claimed = _claim_steps(session, [stack_id])
    if claimed:
        call_after_commit(session, lambda: _send_steps(claimed))


def request_stack_steps(ids: Iterable[uuid.UUID], *, delay_s: float | None = None) -> int:
    ids = list(ids)
    if not ids:
        return 0
    with session_scope() as session:
        claimed = _claim_steps(session, ids)
    _send_steps(claimed, delay_s)
    return len(claimed)


def wake_stack(session: Session, stack_id: uuid.UUID) -> None:
    """A service's rollout has ended: look at its stack now, once it commits, without
    waiting for its next step. An extra look outside the stack's chain of steps (it sends
    no next one and leaves the waiting one's mark alone): a step may run any time."""
    def send() -> None:
        try:
            get_celery().send_task(STACK_STEP_TASK, args=[str(stack_id)], kwargs={"chain": False})
        except Exception:  # the chain's own next step comes anyway
            log.debug("could not wake stack %s", stack_id, exc_info=True)

    call_after_commit(session, send)


def stack_step_picked_up(stack_id: uuid.UUID) -> None:
    with session_scope() as session:
        stack_repo.unmark_step_queued(session, [stack_id])
