"""The Celery app and the only way the API asks workers to look at something.

A job carries an id and nothing else: it means "look at X now". Jobs are sent after the
transaction that made them necessary commits; a lost one is found by the periodic resync.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from celery import Celery
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import call_after_commit

log = logging.getLogger(__name__)

RECONCILE_TASK = "deployments.reconcile"
RESYNC_TASK = "deployments.resync"
HEARTBEAT_TASK = "hosts.heartbeat"
ORPHANS_TASK = "hosts.collect_orphans"


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
            "heartbeat": {"task": HEARTBEAT_TASK, "schedule": settings.heartbeat_interval_s},
            "orphans": {"task": ORPHANS_TASK, "schedule": settings.orphan_interval_s},
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


def send_reconcile(deployment_id: uuid.UUID, countdown: float | None = None) -> None:
    get_celery().send_task(RECONCILE_TASK, args=[str(deployment_id)], countdown=countdown)


def enqueue_reconcile(session: Session, deployment_id: uuid.UUID) -> None:
    call_after_commit(session, lambda: send_reconcile(deployment_id))


def check_broker() -> str | None:
    """None when the broker accepts a connection, else a short reason."""
    try:
        with get_celery().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:  # any failure means "not ready"
        return exc.__class__.__name__
