"""Docker hosts: registration, updates and heartbeats."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from app import jobs
from app.config import get_settings
from app.db import session_scope, utcnow
from app.dockerhost import EngineAddress, EngineError, EngineInfo, client_for
from app.dockerhost.engine import drop_client
from app.errors import Conflict, Invalid
from app.logs import register_secret_values
from app.models import Host
from app.reconcile.host_liveness import HostNotice, Liveness, after_ping
from app.repositories import deployments as deployment_repo
from app.repositories import events as event_repo
from app.repositories import hosts as host_repo
from app.repositories import replicas as replica_repo
from app.schemas.hosts import HostCreate, HostUpdate
from app.services import installation as installation_service
from app.services import networks as network_service
from app.services.fleet import address
from app.services.preconditions import check_if_match

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0
HEARTBEAT_THREADS = 128


def _apply_info(host: Host, info: EngineInfo, asked_at: datetime) -> None:
    host.engine_version = info.version
    host.cpus = info.cpus
    host.memory_bytes = info.memory_bytes
    host.containers = info.containers
    if info.root_dir:
        host.engine_root_dir = info.root_dir
    host.last_heartbeat_at = asked_at  # when the question it answered was sent
    host.last_error = None


def register(session: Session, body: HostCreate) -> Host:
    if host_repo.find_by_name(session, body.name) is not None:
        raise Conflict(f"host {body.name!r} already exists")
    tls, ssh = body.tls, body.ssh
    if ssh is not None:  # used (the probe below) before it is sealed, which registers it
        register_secret_values([ssh.private_key, ssh.private_key.strip()])
    addr = EngineAddress(body.name, body.url, tls.ca_cert if tls else None,
                         tls.client_cert if tls else None, tls.client_key if tls else None,
                         ssh.private_key if ssh else None, ssh.known_hosts if ssh else None)
    asked = utcnow()
    try:
        info = client_for(addr, PROBE_TIMEOUT_S).info()
    except EngineError as exc:
        drop_client(addr)
        hint = ""
        if body.url.startswith("ssh://") and ssh is None:
            hint = ("; ssh:// hosts need `ssh.private_key` and `ssh.known_hosts`, unless "
                    "the API's and workers' own ssh config reaches the host")
        raise Invalid(f"the engine did not answer: {exc}{hint}", loc=["body", "url"]) from exc
    now = utcnow()
    host = Host(name=body.name, url=body.url, labels=dict(body.labels), state="ready",
                schedulable=True, created_at=now, updated_at=now, resource_version=1,
                tls_ca_cert=addr.tls_ca_cert, tls_client_cert=addr.tls_client_cert,
                tls_client_key=addr.tls_client_key, ssh_private_key=addr.ssh_private_key,
                ssh_known_hosts=addr.ssh_known_hosts,
                allowed_bind_prefixes=list(body.allowed_bind_prefixes),
                # With one host, that host is the edge.
                edge=body.edge if body.edge is not None else not host_repo.all_hosts(session),
                edge_address=body.edge_address)
    _apply_info(host, info, asked)
    session.add(host)
    session.flush()
    return host


def update(session: Session, name: str, body: HostUpdate, if_match: str | None) -> Host:
    host = host_repo.get_by_name(session, name, for_update=True)
    check_if_match(if_match, host.resource_version)
    if body.labels is not None:
        host.labels = dict(body.labels)
    if body.schedulable is not None:
        host.schedulable = body.schedulable
    if body.allowed_bind_prefixes is not None:
        host.allowed_bind_prefixes = list(body.allowed_bind_prefixes)
    # An edge change reaches the proxies at the next edges.reconcile (a heartbeat away).
    if body.edge is not None:
        host.edge = body.edge
    if "edge_address" in body.model_fields_set:
        host.edge_address = body.edge_address
    host.resource_version += 1
    session.flush()
    # Its replicas may have to move (drained, labels or allowed host paths changed): now,
    # rather than at their next drift check.
    affected = replica_repo.deployment_ids_on_hosts(session, [host.name])
    # Due now, not settled (deployment_repo.settled): a job lost on its way is sent again
    # by the resync, since a host's labels are not what the drift check compares.
    deployment_repo.mark_due_now(session, affected, utcnow())
    for deployment_id in affected:
        jobs.enqueue_reconcile(session, deployment_id)
    return host


def remove(session: Session, name: str, if_match: str | None) -> None:
    host = host_repo.get_by_name(session, name, for_update=True)
    check_if_match(if_match, host.resource_version)
    if host_repo.replica_count(session, host.id):
        raise Conflict(f"host {name!r} still runs replicas; drain it first "
                       '(PATCH {"schedulable": false})')
    session.delete(host)
    drop_client(address(host))


@dataclass
class Heartbeat:
    changed_hosts: list[str] = field(default_factory=list)  # came, went, or were lost
    # Deployments to look at now: with replicas on a changed host, or whose containers
    # changed on their own.
    wake: set[uuid.UUID] = field(default_factory=set)
    # Hosts to ping again at a moment of their own: their grace ends before the next tick.
    recheck: dict[str, datetime] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _heartbeat_pool() -> ThreadPoolExecutor:
    # Made on first use, so each forked worker child has its own.
    return ThreadPoolExecutor(HEARTBEAT_THREADS, thread_name_prefix="heartbeat")


def heartbeat_all(only: Collection[str] | None = None) -> Heartbeat:
    """Ping every host at once, so a dead one never delays the others, and ask each one
    which of our containers died or were removed since about the last tick.

    The deployments of changed hosts and drifted containers want a look now. ``only``:
    just these hosts (a check at the end of their grace, between two ticks).
    """
    # Ticks are stamped when they start: a dead host makes every tick wait out its timeout,
    # and that wait must not push the grace's end past a tick.
    started = utcnow()
    with session_scope() as session:
        # What each host looked like as this check began: how it is asked, and what its
        # answer can change when other checks wrote meanwhile (host_liveness.after_ping).
        hosts = [(h.id, address(h), _liveness(h)) for h in host_repo.all_hosts(session)
                 if only is None or h.name in only]
        installation = installation_service.installation_id(session)
    if not hosts:
        return Heartbeat()
    settings = get_settings()
    timeout = settings.heartbeat_timeout_s
    # Windows overlap, so an event at a tick's edge is not missed; a repeat costs nothing.
    window = timedelta(seconds=settings.heartbeat_interval_s + 2 * timeout)

    def ping(addr: EngineAddress, suspect: bool) -> tuple[EngineInfo, set[str], set[str]] | str:
        client = client_for(addr, timeout)
        if suspect:
            # Only a new connection says it is back: a stopping engine stops accepting them
            # at once but serves the kept-alive ones for a second or two more.
            client.close_connections()
        try:
            info = client.info()
        except EngineError as exc:
            return str(exc)
        drifted: set[str] = set()
        present: set[str] = set()
        try:
            if info.system_time is not None:
                drifted = client.drifted_deployments(
                    installation, info.system_time - window, info.system_time)
            if suspect:
                # A host coming back may hold containers of deployments whose replicas
                # moved off it meanwhile (no replica row names it any more): they are the
                # ones to tell, and to wake so their stale containers go now.
                present = {d for _, d in client.list_managed(installation) if d}
        except EngineError as exc:  # a hint only: the drift check still comes
            log.info("no events or containers from %s: %s", addr.name, exc)
        return info, drifted, present

    # A deadline for the whole tick: a host that has not answered by then missed this
    # heartbeat, however slow its connection is to fail. The pool's threads live across
    # ticks (one per host, up to 128), so a tick does not pay for starting them.
    deadline = time.monotonic() + timeout
    futures = [_heartbeat_pool().submit(ping, addr, seen.suspect) for _, addr, seen in hosts]
    done, _ = wait(futures, timeout=max(0.0, deadline - time.monotonic()))
    for f in futures:
        f.cancel()  # one still queued behind a slow host: not worth starting now
    results = [f.result() if f in done else f"no answer within {timeout:g}s" for f in futures]
    beat = Heartbeat()
    told: list[tuple[str, HostNotice, set[str]]] = []
    grace = timedelta(seconds=settings.host_grace_s)
    tick = timedelta(seconds=settings.heartbeat_interval_s)
    with session_scope() as session:
        # One query, not one per host; locked, so that checks that overlap decide one
        # after the other, each on the row as the other left it (the older answer loses).
        rows = {h.id: h for h in host_repo.all_hosts(session, for_update=True)}
        for (host_id, _, seen), result in zip(hosts, results, strict=True):
            host = rows.get(host_id)
            if host is None:
                continue
            error = result if isinstance(result, str) else None
            present: set[str] = set()
            verdict = after_ping(host.name, _liveness(host), error, tick_started=started,
                                 grace=grace, tick=tick, seen=seen)
            if verdict.stale:  # another check wrote a newer answer meanwhile
                continue
            if verdict.recheck_at is not None:
                beat.recheck[host.name] = verdict.recheck_at
            if error is None:
                info, drifted, present = result
                beat.wake |= {uuid.UUID(d) for d in drifted | present if _is_uuid(d)}
                _apply_info(host, info, verdict.liveness.last_answer or started)
            else:
                host.last_error = error
            host.state = verdict.liveness.state
            host.unreachable_since = verdict.liveness.unreachable_since
            host.lost_at = verdict.liveness.lost_at
            if verdict.notice is not None:
                log.log(logging.WARNING if verdict.notice.warning else logging.INFO, "%s",
                        verdict.notice.message)
                beat.changed_hosts.append(host.name)
                told.append((host.name, verdict.notice, present))
        # Each deployment with replicas (or, for a host that is back, containers) there
        # hears of it, in its own events.
        for name, notice, present in told:
            on_host = {*replica_repo.deployment_ids_on_hosts(session, [name]),
                       *(uuid.UUID(d) for d in present if _is_uuid(d))}
            # Locked, so a deployment deleted meanwhile is skipped instead of failing the
            # event's insert and, with it, every host's new state.
            for deployment_id in deployment_repo.lock_existing(session, on_host):
                event_repo.record(session, deployment_id, notice.reason, notice.message,
                                  warning=notice.warning)
                beat.wake.add(deployment_id)
    return beat


def _liveness(host: Host) -> Liveness:
    return Liveness(host.state, host.unreachable_since, host.lost_at, host.last_heartbeat_at)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def collect_orphans() -> int:
    """Remove containers Moorage made for deployments that no longer exist (e.g. left on
    a host that was lost while its deployment was deleted), and Moorage's networks that
    no container uses. Nothing unlabelled is touched."""
    with session_scope() as session:
        ready = [address(h) for h in host_repo.all_hosts(session) if h.state == "ready"]
        known = deployment_repo.all_ids(session)
        installation = installation_service.installation_id(session)
    removed = 0
    for addr in ready:
        client = client_for(addr, PROBE_TIMEOUT_S)
        try:
            for container_id, deployment_id in client.list_managed(installation):
                if deployment_id and deployment_id not in known:
                    client.remove(container_id)
                    removed += 1
            # And the networks no container there uses (Moorage's own only).
            network_service.sweep(client, installation)
        except EngineError as exc:
            log.info("orphan collection skipped %s: %s", addr.name, exc)
    return removed
