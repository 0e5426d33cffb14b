"""Docker hosts: registration, updates and heartbeats."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import session_scope, utcnow
from app.dockerhost import EngineError, EngineInfo, client_for
from app.dockerhost.engine import drop_client
from app.errors import Conflict, Invalid
from app.models import Host
from app.repositories import hosts as host_repo
from app.schemas.hosts import HostCreate, HostUpdate
from app.services.deployments import check_if_match

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0


def probe(name: str, url: str) -> EngineInfo:
    return client_for(name, url, PROBE_TIMEOUT_S).info()


def _apply_info(host: Host, info: EngineInfo) -> None:
    host.engine_version = info.version
    host.cpus = info.cpus
    host.memory_bytes = info.memory_bytes
    host.containers = info.containers
    host.last_heartbeat_at = utcnow()
    host.last_error = None


def register(session: Session, body: HostCreate) -> Host:
    if host_repo.find_by_name(session, body.name) is not None:
        raise Conflict(f"host {body.name!r} already exists")
    try:
        info = probe(body.name, body.url)
    except EngineError as exc:
        drop_client(body.name, body.url)
        raise Invalid(f"the engine did not answer: {exc}", loc=["body", "url"]) from exc
    now = utcnow()
    host = Host(name=body.name, url=body.url, labels=dict(body.labels), state="ready",
                schedulable=True, created_at=now, updated_at=now, resource_version=1)
    _apply_info(host, info)
    session.add(host)
    session.flush()
    return host


def update(session: Session, name: str, body: HostUpdate, if_match: str | None) -> Host:
    host = host_repo.get_by_name(session, name)
    check_if_match(if_match, host.resource_version)
    if body.labels is not None:
        host.labels = dict(body.labels)
    if body.schedulable is not None:
        host.schedulable = body.schedulable
    host.resource_version += 1
    session.flush()
    return host


def remove(session: Session, name: str, if_match: str | None) -> None:
    host = host_repo.get_by_name(session, name)
    check_if_match(if_match, host.resource_version)
    if host_repo.replica_count(session, host.id):
        raise Conflict(f"host {name!r} still runs replicas; drain it first "
                       '(PATCH {"schedulable": false})')
    session.delete(host)
    drop_client(host.name, host.url)


def heartbeat_all() -> None:
    """Ping every host at once, so a dead one never delays the others."""
    settings = get_settings()
    with session_scope() as session:
        hosts = [(h.id, h.name, h.url) for h in host_repo.all_hosts(session)]
    if not hosts:
        return

    def ping(name: str, url: str) -> EngineInfo | str:
        try:
            return client_for(name, url, PROBE_TIMEOUT_S).info()
        except EngineError as exc:
            return str(exc)

    with ThreadPoolExecutor(min(32, len(hosts))) as pool:
        results = list(pool.map(lambda h: ping(h[1], h[2]), hosts))
    grace = timedelta(seconds=settings.host_grace_s)
    now = utcnow()
    with session_scope() as session:
        for (host_id, _, _), result in zip(hosts, results, strict=True):
            host = session.get(Host, host_id)
            if host is None:
                continue
            if isinstance(result, EngineInfo):
                if host.state != "ready":
                    log.info("host %s is ready again", host.name)
                _apply_info(host, result)
                host.state = "ready"
            else:
                host.last_error = result
                last = host.last_heartbeat_at or host.created_at
                if host.state == "ready" and now - last > grace:
                    log.warning("host %s is unreachable: %s", host.name, result)
                    host.state = "unreachable"
