"""Container output of a deployment, gathered from every host at once: the recent lines,
or followed as they come (new replicas joining as they start).

Lines are redacted with the deployment's secret values (of every revision its replicas
run), so a container that prints its environment shows `***`, as Moorage's own logs do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.dockerhost import FOLLOW_TIMEOUT_S, EngineError, LogStream, client_for
from app.logs import redactor
from app.models import Host, Replica
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.repositories import replicas as replica_repo
from app.schemas.deployments import LogLine
from app.services import fleet

log = logging.getLogger(__name__)
RESCAN_S = 1.0  # how often a follower looks for replicas that started since


@dataclass(frozen=True)
class _Target:
    replica: str  # the container name, as LogLine.replica
    host: Host
    container_id: str


def matches(replica: Replica, wanted: str | None) -> bool:
    """``wanted`` names a replica by its container name or its slot number."""
    if wanted is None:
        return True
    return wanted == replica.container_name or (wanted.isdigit() and int(wanted) == replica.slot)


def _targets(session: Session, deployment_id, wanted: str | None) -> tuple[list[_Target], Callable[[str], str]]:
    hosts = {h.id: h for h in host_repo.all_hosts(session)}
    replicas = [r for r in replica_repo.for_deployment(session, deployment_id)
                if r.container_id and r.host_id in hosts and matches(r, wanted)]
    secrets = deployment_repo.secret_values(session, deployment_id, {r.revision for r in replicas})
    targets = [_Target(r.container_name, hosts[r.host_id], r.container_id) for r in replicas]
    return targets, redactor(secrets)


def _unavailable(target: _Target, exc: Exception) -> LogLine:
    return LogLine(replica=target.replica, host=target.host.name, time=None,
                   line=f"[moorage] logs unavailable: {exc}")


def recent(session: Session, name: str, tail: int, since: datetime | None = None,
           replica: str | None = None) -> list[LogLine]:
    deployment = deployment_repo.get_by_name(session, name)
    targets, redact = _targets(session, deployment.id, replica)

    def fetch(target: _Target) -> list[LogLine]:
        try:
            lines = client_for(fleet.address(target.host)).logs(target.container_id, tail, since)
        except EngineError as exc:
            return [_unavailable(target, exc)]
        return [LogLine(replica=target.replica, host=target.host.name, time=t, line=redact(text))
                for t, text in lines]

    if not targets:
        return []
    with ThreadPoolExecutor(min(16, len(targets))) as pool:
        batches = list(pool.map(fetch, targets))
    out = [line for batch in batches for line in batch]
    out.sort(key=lambda ln: (ln.time is None, ln.time, ln.replica))
    return out


class Follower:
    """Follows every replica's output: one thread per container (engine log streams
    block), and one that looks for new replicas every RESCAN_S. Each line goes to
    ``emit``; ``emit(None)`` once at the end (the deployment is gone). ``close()`` stops
    it all, from any thread."""

    def __init__(self, session_factory: Callable[[], Session], name: str, tail: int,
                 since: datetime | None, replica: str | None,
                 emit: Callable[[LogLine | None], None]) -> None:
        self._sessions = session_factory
        self._name, self._tail, self._since, self._replica = name, tail, since, replica
        self._emit = emit
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._streams: dict[str, LogStream] = {}
        self._seen: set[str] = set()
        self._redact: Callable[[str], str] = lambda text: text

    def start(self) -> None:
        threading.Thread(target=self._watch, name=f"logs-{self._name}", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            stream.close()

    def _watch(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                with self._sessions() as session:
                    deployment = deployment_repo.find_by_name(session, self._name)
                    if deployment is None:
                        break
                    targets, self._redact = _targets(session, deployment.id, self._replica)
            except SQLAlchemyError as exc:  # the database is away: the streams go on; look again
                log.warning("following logs of %s: cannot look for new replicas: %s", self._name, exc)
                self._stop.wait(RESCAN_S)
                continue
            for target in targets:
                if target.container_id not in self._seen:
                    self._seen.add(target.container_id)
                    # A container that started after we began: all of its output is new.
                    tail, since = (self._tail, self._since) if first else ("all", None)
                    threading.Thread(target=self._follow, args=(target, tail, since),
                                     name=f"logs-{target.replica}", daemon=True).start()
            first = False
            self._stop.wait(RESCAN_S)
        if not self._stop.is_set():
            self._emit(None)

    def _follow(self, target: _Target, tail: int | str, since: datetime | None) -> None:
        try:
            stream = client_for(fleet.address(target.host), FOLLOW_TIMEOUT_S).follow_logs(
                target.container_id, tail, since)
        except EngineError as exc:
            self._emit(_unavailable(target, exc))
            return
        with self._lock:
            if self._stop.is_set():
                stream.close()
                return
            self._streams[target.container_id] = stream
        for time, text in stream:
            if self._stop.is_set():
                break
            self._emit(LogLine(replica=target.replica, host=target.host.name, time=time,
                               line=self._redact(text)))
        with self._lock:
            self._streams.pop(target.container_id, None)
