"""The worker's Celery app: the one from app.jobs, with the tasks registered."""

from __future__ import annotations

from celery.signals import after_setup_logger, worker_process_init

from app.jobs import get_celery
from app.logs import RedactSecrets

celery = get_celery()
celery.conf.update(include=["workers.tasks"])


@after_setup_logger.connect
def _redact(logger, **_kwargs) -> None:
    for handler in logger.handlers:
        handler.addFilter(RedactSecrets())


@worker_process_init.connect
def _fresh_connections(**_kwargs) -> None:
    # A forked child must not share the parent's database connections.
    from app.db import get_engine

    get_engine().dispose(close=False)


import workers.tasks  # noqa: E402,F401  (registers the tasks)
