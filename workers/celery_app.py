"""The worker's Celery app: the one from app.jobs, with the tasks registered, and the
process heartbeats (app.services.liveness) of workers and beat wired in."""

from __future__ import annotations

import atexit

from celery import bootsteps
from celery.signals import (
    after_setup_logger,
    after_task_publish,
    beat_init,
    worker_init,
    worker_process_init,
    worker_shutdown,
)

from app.heap import tune_collector
from app.jobs import get_celery
from app.logs import RedactSecrets
from app.services import liveness

celery = get_celery()
# workers.consumer: a worker must outlive a broker outage (see its docstring).
celery.conf.update(include=["workers.tasks"], worker_consumer="workers.consumer:Consumer")

# How often a connected consumer tells the heartbeat it runs: often, it only sets a time.
CONSUMING_TICK_S = 1.0


@after_setup_logger.connect
def _redact(logger, **_kwargs) -> None:
    for handler in logger.handlers:
        handler.addFilter(RedactSecrets())


@worker_process_init.connect
def _fresh_connections(**_kwargs) -> None:
    # A forked child must not share the parent's database connections.
    from app.db import get_engine

    get_engine().dispose(close=False)


@worker_init.connect
def _worker_heartbeat(**_kwargs) -> None:
    # At init, not when ready: a worker that cannot reach the broker still says it lives.
    liveness.start("worker")
    tune_collector()  # before the pool forks: the children inherit the frozen set


@worker_shutdown.connect
def _worker_goodbye(**_kwargs) -> None:
    liveness.stop()


@beat_init.connect
def _beat_heartbeat(**_kwargs) -> None:
    liveness.start("beat")
    atexit.register(liveness.stop)
    # Last: a beat stopped while the collector runs must already say goodbye on its way out.
    tune_collector()


@after_task_publish.connect
def _beat_sent_a_job(**_kwargs) -> None:
    beat = liveness.current()
    if beat is not None and beat.kind == "beat":
        beat.saw_broker()


class Consuming(bootsteps.StartStopStep):
    """Tells the worker's heartbeat, from the consumer's event loop, that it consumes.

    Started once the consumer is connected and consuming, stopped when the connection is
    lost; the tick runs on the event loop's timer, so it stops too if the loop is stuck.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, c, **kwargs) -> None:
        super().__init__(c, **kwargs)
        self.tref = None

    def start(self, c) -> None:
        beat = liveness.current()
        if beat is None:
            return
        beat.saw_broker()
        self.tref = c.timer.call_repeatedly(CONSUMING_TICK_S, beat.saw_broker)

    def stop(self, c) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop


celery.steps["consumer"].add(Consuming)

import workers.tasks  # noqa: E402,F401  (registers the tasks)
