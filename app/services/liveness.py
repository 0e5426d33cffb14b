"""Which worker and beat processes live, as they say themselves.

Each process runs a ``HeartbeatThread`` that writes its row every
``process_heartbeat_interval_s``. A thread, not a task: a task needs the broker and a free
pool process, and it is when those are gone that we most want to know whether the process
still lives. A worker also tells its thread each time its consumer runs while connected to
the broker (see workers.celery_app), so a worker that lives but consumes nothing shows as
such; beat tells it each time it sends a job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import make_engine, session_scope, utcnow
from app.models import ProcessHeartbeat as Row
from app.repositories import processes as process_repo

log = logging.getLogger(__name__)

KINDS = ("worker", "beat")
# A process not seen for this long is forgotten (until then it is listed, as gone).
FORGET_AFTER = timedelta(hours=1)


class HeartbeatThread(threading.Thread):
    """Writes this process's row until stopped; deletes it when stopped cleanly."""

    def __init__(self, kind: str, settings: Settings | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        super().__init__(daemon=True, name=f"moorage-{kind}-heartbeat")
        self.kind = kind
        self.settings = settings or get_settings()
        self.row_id = uuid.uuid4()
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = utcnow()
        self.broker_seen_at: datetime | None = None
        self._stopped = threading.Event()
        self._failing = False
        # Its own engine, a connection per beat: a worker forks its pool processes while
        # this thread runs, and they must not inherit an open connection of ours.
        self._engine: Engine = make_engine(self.settings.effective_database_url, pooled=False)

    def saw_broker(self) -> None:
        """The process just worked with the broker (called from its own loop)."""
        self.broker_seen_at = utcnow()

    def run(self) -> None:
        # `start` wrote the first beat; from here on, one per interval.
        while not self._stopped.wait(self.settings.process_heartbeat_interval_s):
            self.beat()

    def beat(self) -> None:
        now = utcnow()
        try:
            with session_scope(self._engine) as session:
                process_repo.record(
                    session, self.row_id, kind=self.kind, hostname=self.hostname,
                    pid=self.pid, started_at=self.started_at, seen_at=now,
                    broker_seen_at=self.broker_seen_at)
                process_repo.purge(session, now - FORGET_AFTER)
        except Exception:  # the database blinked: say so once, keep trying
            if not self._failing:
                log.warning("%s heartbeat: could not write to the database; retrying every "
                            "%.0f s", self.kind, self.settings.process_heartbeat_interval_s,
                            exc_info=True)
            self._failing = True
            return
        if self._failing:
            log.info("%s heartbeat: written again", self.kind)
        self._failing = False

    def stop(self) -> None:
        """Stop beating and delete the row: a process that stops cleanly is not 'gone'."""
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=10)
        try:
            with session_scope(self._engine) as session:
                process_repo.remove(session, self.row_id)
        except Exception:  # it will go stale and be purged instead
            log.warning("%s heartbeat: could not delete its row", self.kind, exc_info=True)
        self._engine.dispose()


_current: HeartbeatThread | None = None


def start(kind: str) -> HeartbeatThread:
    """Start this process's heartbeat (once; a forked child starts its own)."""
    global _current
    if current() is None:
        _current = HeartbeatThread(kind)
        # The first beat here, in the caller's thread: a worker forks its pool right after,
        # and a child forked while this thread was importing (the first connection pulls in
        # psycopg's and SQLAlchemy's lazy modules) would inherit a held import lock and hang
        # at its first task that imports the same module.
        _current.beat()
        _current.start()
    assert _current is not None
    return _current


def current() -> HeartbeatThread | None:
    """This process's heartbeat, if it runs one (not a parent's, inherited by a fork)."""
    beat = _current
    return beat if beat is not None and beat.pid == os.getpid() else None


def stop() -> None:
    global _current
    beat = current()
    if beat is not None:
        beat.stop()
        _current = None


# -- what the API and /metrics report -----------------------------------------------------


@dataclass(frozen=True)
class ProcessView:
    id: uuid.UUID
    kind: str
    hostname: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    broker_seen_at: datetime | None
    alive: bool
    # Workers: alive, and its consumer ran connected to the broker within the window.
    # None for beat (it sends jobs only when they are due).
    consuming: bool | None


@dataclass(frozen=True)
class Report:
    processes: list[ProcessView]
    problems: list[str]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def alive(self, kind: str) -> int:
        return sum(1 for p in self.processes if p.kind == kind and p.alive)

    @property
    def consuming(self) -> int:
        return sum(1 for p in self.processes if p.consuming)


def judge(rows: Iterable[Row], now: datetime, stale_after_s: float) -> Report:
    """Healthy when at least one worker lives and consumes, and exactly one beat lives."""
    fresh_since = now - timedelta(seconds=stale_after_s)
    views = []
    for r in rows:
        lives = r.last_seen_at >= fresh_since
        consuming = None
        if r.kind == "worker":
            consuming = lives and r.broker_seen_at is not None and r.broker_seen_at >= fresh_since
        views.append(ProcessView(
            id=r.id, kind=r.kind, hostname=r.hostname, pid=r.pid, started_at=r.started_at,
            last_seen_at=r.last_seen_at, broker_seen_at=r.broker_seen_at, alive=lives,
            consuming=consuming))
    alive = Counter(v.kind for v in views if v.alive)
    problems = []
    if not alive["worker"]:
        problems.append(f"no worker is alive (none heard from in {stale_after_s:g} s)")
    elif not any(v.consuming for v in views):
        problems.append(f"{alive['worker']} worker(s) alive, but none has consumed from the "
                        f"broker in {stale_after_s:g} s")
    if not alive["beat"]:
        problems.append(f"no beat is alive (none heard from in {stale_after_s:g} s): nothing "
                        "sends the resync, host heartbeats or orphan collection")
    elif alive["beat"] > 1:
        problems.append(f"{alive['beat']} beats are alive: run exactly one")
    return Report(processes=views, problems=problems)


def report(session: Session, now: datetime | None = None,
           settings: Settings | None = None) -> Report:
    settings = settings or get_settings()
    return judge(process_repo.all_rows(session), now or utcnow(), settings.process_stale_after_s)
