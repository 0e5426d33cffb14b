"""Celery's task consumer, less the step of its cleanup that kills a worker when the
broker goes away while a task runs (the app's ``worker_consumer``, set in
workers.celery_app; Celery is pinned to the release this was written against).

Celery 5.7.0, on losing the broker connection, first ``collect()``s the broken
connection, then ``close()``s it. With Redis, ``collect()`` closes the channel (whose
close stops short when a BRPOP was in flight: reading its reply raises) and then detaches
kombu's transport from the connection (``transport.client = None``). ``close()`` then
closes that channel a second time: it drops the channel's connection pools and restores
the running task's unacknowledged message, which needs a new pool, built from
``transport.client.hostname``: ``AttributeError: 'NoneType' object has no attribute
'hostname'``. ``ignore_errors()`` lets only connection errors pass, so it reaches the
worker, which logs "Unrecoverable error" and exits once its running tasks end.

Collecting alone is what Celery 5.6 did. The half-closed channel keeps its pool, so the
task that was running acknowledges its message through it once the broker is back; the
channel and its sockets go when nothing refers to them any more.
"""

from __future__ import annotations

from celery.worker.consumer import Consumer as CeleryConsumer


def _already_collected() -> None:
    """close() of a connection that collect() took apart: nothing left to do safely."""


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc) -> None:
        if self.connection is not None:
            # Only this broken connection's close(), and only from here on.
            self.connection.close = _already_collected
        super().on_connection_error_after_connected(exc)
