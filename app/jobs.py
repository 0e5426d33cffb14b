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
from datetime import timedelta
from functools import lru_cache

from celery import Celery
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import call_after_commit, session_scope, utcnow
from app.repositories import deployments as deployment_repo

log = logging.getLogger(__name__)

RECONCILE_TASK = "deployments.reconcile"
RESYNC_TASK = "deployments.resync"
HEARTBEAT_TASK = "hosts.heartbeat"
ORPHANS_TASK = "hosts.collect_orphans"
PURGE_TASK = "maintenance.purge"


def make_celery(settings: Settings) -> Celery:
    app = Celery("moorage", broker=settings.effective_broker_url)
    conf: dict = {
        "task_default_queue": settings.queue,
        "task_acks_late": True,  # a killed worker's job is redelivered, not lost
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            "resync": {"task": RESYNC_TASK, "schedule": settings.resync_interval_s},
            "heartbeat": {"task": HEARTBEAT_TASK, "schedule": settings.heartbeat_interval_s},
            "orphans": {"task": ORPHANS_TASK, "schedule": settings.orphan_interval_s},
            "purge": {"task": PURGE_TASK, "schedule": settings.purge_interval_s},
        },
    }
    if settings.effective_broker_url.startswith("filesystem://"):
        folder = settings.broker_folder
        for sub in ("queue", "processed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        conf["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        }
    else:
        # Redelivery of a job whose worker died; the lease and resync cover the rest.
        conf["broker_transport_options"] = {"visibility_timeout": 300}
    app.conf.update(conf)
    return app


@lru_cache
def get_celery() -> Celery:
    return make_celery(get_settings())


def _send(ids: list[uuid.UUID]) -> None:
    celery = get_celery()
    unsent = []
    for deployment_id in ids:
        try:
            celery.send_task(RECONCILE_TASK, args=[str(deployment_id)])
        except Exception:  # the broker is away; unmark, so the resync sends it when it is back
            log.warning("could not send a reconcile job for %s", deployment_id, exc_info=True)
            unsent.append(deployment_id)
    if unsent:
        try:
            with session_scope() as session:
                deployment_repo.unmark_job_queued(session, unsent)
        except Exception:  # the mark goes stale instead, and the resync sends it then
            log.warning("could not unmark %d unsent jobs", len(unsent), exc_info=True)


def _claim(session: Session, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    now = utcnow()
    stale = now - timedelta(seconds=get_settings().job_redeliver_s)
    return deployment_repo.mark_job_queued(session, ids, now, stale)


def enqueue_reconcile(session: Session, deployment_id: uuid.UUID) -> None:
    """In the caller's transaction: a job for the deployment, sent once that commits,
    unless one is already waiting."""
    claimed = _claim(session, [deployment_id])
    if claimed:
        call_after_commit(session, lambda: _send(claimed))


def request_reconcile(ids: Iterable[uuid.UUID]) -> int:
    """Outside a transaction (resync, heartbeats, the reconciler): the same, at once.
    Returns how many jobs were sent."""
    ids = list(ids)
    if not ids:
        return 0
    with session_scope() as session:
        claimed = _claim(session, ids)
    _send(claimed)
    return len(claimed)


def job_picked_up(deployment_id: uuid.UUID) -> None:
    """A worker took the job: from now on a request sends a new one (the pass about to
    run may already be too old for it)."""
    with session_scope() as session:
        deployment_repo.unmark_job_queued(session, [deployment_id])


def check_broker() -> str | None:
    """None when the broker accepts a connection, else a short reason."""
    try:
        with get_celery().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:  # any failure means "not ready"
        return f"broker: {exc.__class__.__name__}"
