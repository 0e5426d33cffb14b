"""The edge proxies: a system workload Moorage runs and keeps on every edge host.

Postgres is the truth. Each edge's whole config is built from the database (every
deployment's ``endpoint_state``, app.reconcile.endpoints.caddy_config) and given to its
proxy whenever it differs from what the proxy was last given, or the proxy is not the
one (or not the start) it was given to: a proxy that was killed, restarted by the
engine, removed or replaced gets its whole config again. ``sync`` is called by a
deployment's reconciler when its upstreams change, and periodically for every edge
(workers: ``edges.reconcile``), which is how a lost proxy comes back within a
heartbeat interval with no Moorage restart.

Upgrades: a proxy made from another image than MOORAGE_EDGE_IMAGE (or with another
admin address) is replaced. It uses the host's network, so old and new cannot listen at
once: an upgrade refuses connections for the moment between them (well under a second).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.dockerhost import EngineAddress, EngineError, ImageMissing, client_for
from app.dockerhost.edge import EdgeContainer, EdgeDriver
from app.models import Host
from app.reconcile import endpoints as core
from app.repositories import endpoints as endpoint_repo
from app.repositories import events as event_repo
from app.services import fleet, installation

log = logging.getLogger(__name__)

LEASE_S = 30.0
LEASE_WAIT_S = 10.0  # how long a writer waits for another to finish with an edge


@lru_cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(8, thread_name_prefix="edge")


def tuning(settings: Settings) -> core.ProxyTuning:
    return core.ProxyTuning(admin_listen=settings.edge_admin_address, http_port=settings.edge_http_port,
                            fail_duration_s=settings.edge_fail_duration_s)


def edge_view(host: Host) -> core.EdgeView:
    return core.EdgeView.of(host.name, host.edge_address, host.url)


def reach_address(host: Host) -> str:
    """Where other hosts (and an edge's proxy) reach ``host``'s published ports."""
    view = edge_view(host)
    return view.public_address


def served_endpoints(rows: Iterable[tuple[str, int, dict]]) -> list[core.Served]:
    out = []
    for name, port, state in rows:
        serving = tuple(u["address"] for u in state.get("upstreams") or ()
                        if u.get("state", core.SERVING) == core.SERVING)
        out.append(core.Served(name, port, tuple(state.get("hostnames") or ()), serving,
                               float(state.get("drain_timeout_s", 30.0))))
    return out


@dataclass(frozen=True)
class EdgeTarget:
    host_id: uuid.UUID
    name: str
    address: EngineAddress
    edge: bool
    reachable: bool


def _targets(names: Iterable[str] | None = None) -> tuple[list[EdgeTarget], str]:
    with session_scope() as session:
        hosts = endpoint_repo.hosts_with_a_proxy(session)
        installation_id = installation.installation_id(session)
        wanted = set(names) if names is not None else None
        targets = [EdgeTarget(h.id, h.name, fleet.address(h), h.edge, h.state == "ready")
                   for h in hosts if wanted is None or h.name in wanted]
    return targets, installation_id


def sync(settings: Settings, names: Iterable[str] | None = None) -> dict[str, str]:
    """Bring every edge's proxy (or those named) to what the database says, in parallel.
    Returns the edges that could not be brought there, with why."""
    targets, installation_id = _targets(names)
    futures = {t.name: _pool().submit(_sync_one, t, installation_id, settings)
               for t in targets if t.reachable}
    failed = {}
    for name, future in futures.items():
        try:
            future.result()
        except EngineError as exc:
            log.warning("edge %s: %s", name, exc)
            failed[name] = str(exc)
        except Exception as exc:  # a bug must not stop the other edges, nor the caller
            log.exception("edge %s: unexpected error", name)
            failed[name] = repr(exc)
    record_outcome({t.host_id: failed.get(t.name) for t in targets if t.reachable})
    return failed


def record_outcome(outcome: dict[uuid.UUID, str | None]) -> None:
    """Each edge's last outcome on its host (``edge_error``), and to the deployments it
    serves when it changes: a proxy that cannot take its config keeps sending requests to
    replicas that left, which its operators must hear of. An unchanged outcome writes
    nothing, so an idle tick writes no row."""
    if not outcome:
        return
    with session_scope() as session:
        changed = endpoint_repo.set_edge_errors(session, outcome)
        # Announced once every host row is written: hosts before deployments, the order
        # the heartbeat takes them in too.
        for name, was, error in changed:
            if error is None:
                _announce_in(session, "EdgeInSync", f"edge {name}: its proxy has the database's config again")
            elif was is None:
                _announce_in(session, "EdgeOutOfSync",
                             f"edge {name}: its proxy could not be given the database's config, so "
                             "it may still send requests to replicas that left and none to those "
                             f"that joined (tried again each heartbeat): {error}", warning=True)


def _take(target: EdgeTarget, owner: str) -> bool:
    deadline = time.monotonic() + LEASE_WAIT_S
    while True:
        now = utcnow()
        with session_scope() as session:
            if endpoint_repo.try_take_edge(session, target.host_id, owner, now,
                                           now + timedelta(seconds=LEASE_S)):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


class EdgeConfig(NamedTuple):
    before: dict | None  # what the proxy was last given (Host.edge_applied)
    data: bytes  # the config the database says now
    serving: bool  # whether any endpoint is served: with none, no proxy need be started


def _config_of(target: EdgeTarget, settings: Settings) -> EdgeConfig | None:
    """What the edge's proxy should run, read in one transaction; None when the host is gone."""
    with session_scope() as session:
        host = session.get(Host, target.host_id)
        if host is None:
            return None
        served = served_endpoints(endpoint_repo.served(session))
        config = core.caddy_config(edge_view(host), served, tuning(settings))
        return EdgeConfig(host.edge_applied, json.dumps(config, sort_keys=True, indent=1).encode(),
                          bool(served))


def _in_step(target: EdgeTarget, settings: Settings) -> bool:
    """Whether the edge's proxy runs, unrestarted, from the configured image, with the
    config the database says: then the periodic sync has nothing to do, and neither
    takes the edge's lease nor writes (an idle tick writes no row). Read without the
    lease: a writer that holds it changes what the database says first, so its change
    is either seen here (and the sync goes the whole way) or is the writer's to apply."""
    if not target.edge:
        return False
    read = _config_of(target, settings)
    if read is None:
        return True
    before, data, serving = read
    current = EdgeDriver(client_for(target.address, settings.docker_timeout_s)).inspect()
    if current is None and not serving and before is None:
        return True  # no endpoint to serve, no proxy to look after: nothing to start (or pull)
    return (current is not None and current.running and current.image == settings.edge_image
            and current.admin == settings.edge_admin_address and _same_run(before, current)
            and (before or {}).get("config_hash") == hashlib.sha256(data).hexdigest())


def _sync_one(target: EdgeTarget, installation_id: str, settings: Settings) -> None:
    if _in_step(target, settings):
        return
    owner = uuid.uuid4().hex
    if not _take(target, owner):
        # Reported as a failure: the caller must not go on as if this edge had the config.
        raise EngineError(f"edge {target.name}: another writer held its config for over {LEASE_WAIT_S:g}s")
    applied, keep = None, True
    try:
        # Read inside the lease: whatever a writer before us committed is in this config.
        read = _config_of(target, settings)
        if read is None:
            return
        before, data, serving = read
        driver = EdgeDriver(client_for(target.address, settings.docker_timeout_s))
        if not target.edge:
            _take_down(driver)
            applied, keep = None, False
            return
        if not serving and driver.inspect() is None:
            applied, keep = None, False  # started with the first endpoint, not before
            return
        applied = _converge(driver, data, before, installation_id, settings)
        keep = False
    finally:
        with session_scope() as session:
            endpoint_repo.release_edge(session, target.host_id, owner, applied, keep)


def _converge(driver: EdgeDriver, data: bytes, before: dict | None, installation_id: str,
              settings: Settings) -> dict:
    """Make the proxy run ``data``; return what it was given (``edge_applied``)."""
    digest = hashlib.sha256(data).hexdigest()
    admin = settings.edge_admin_address
    current = driver.inspect()
    what = None
    if current is not None and (current.image != settings.edge_image or current.admin != admin):
        driver.remove(current.container_id)
        what = ("EdgeProxyUpgraded", f"edge {driver.name}: proxy replaced, {current.image or '?'} "
                f"-> {settings.edge_image}")
        current = None
    if current is None:
        cid = _create(driver, data, installation_id, settings)
        what = what or ("EdgeProxyStarted", f"edge {driver.name}: proxy started ({settings.edge_image})")
        if driver.migrates_requests(cid) is False:
            what = (what[0], what[1] + "; warning: net.ipv4.tcp_migrate_req is 0 on this host, so a "
                    "config reload can reset a connection the proxy has not accepted yet (set it to 1)")
    elif not current.running:
        driver.start(current.container_id, data)
        what = ("EdgeProxyRestored", f"edge {driver.name}: proxy was stopped; started with its "
                "config rebuilt from the database")
    elif not _same_run(before, current):
        driver.load(current.container_id, data, admin)
        what = ("EdgeProxyRestored", f"edge {driver.name}: proxy was restarted; its config was "
                "rebuilt from the database")
    elif (before or {}).get("config_hash") != digest:
        driver.load(current.container_id, data, admin)
    now = driver.inspect()
    if now is None or not now.running:
        raise EngineError(f"edge {driver.name}: the proxy is not running after it was configured")
    if what is not None:
        log.info(what[1])
        _announce(*what)
    return {"container_id": now.container_id, "started_at": now.started_at, "config_hash": digest,
            "image": now.image}


def _same_run(before: dict | None, current: EdgeContainer) -> bool:
    return bool(before) and before.get("container_id") == current.container_id and (
        before.get("started_at") == current.started_at)


def _create(driver: EdgeDriver, data: bytes, installation_id: str, settings: Settings) -> str:
    try:
        cid = driver.create(settings.edge_image, settings.edge_admin_address, installation_id, data)
    except ImageMissing:
        _pull_unless_failed_lately(driver, settings.edge_image)
        cid = driver.create(settings.edge_image, settings.edge_admin_address, installation_id, data)
    # A proxy takes a moment to listen; the caller's next request should find it there.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        current = driver.inspect()
        if current is not None and current.running:
            try:
                driver.in_flight(current.container_id, settings.edge_admin_address)
                return cid
            except EngineError:
                pass
        time.sleep(0.05)
    return cid


# A pull that failed is not tried again on this host for this long: the periodic sync
# runs every few seconds, and each try reaches for a registry (DNS and all) that a
# registry-less site has not got.
PULL_RETRY_S = 300.0
_failed_pulls: dict[tuple[str, str], float] = {}


def _pull_unless_failed_lately(driver: EdgeDriver, image: str) -> None:
    key = (driver.name, image)
    failed_at = _failed_pulls.get(key)
    if failed_at is not None and time.monotonic() - failed_at < PULL_RETRY_S:
        raise EngineError(f"edge {driver.name}: image {image} is not on the host and its pull "
                          f"failed less than {PULL_RETRY_S:g}s ago")
    try:
        driver.client.pull(image)
    except EngineError:
        _failed_pulls[key] = time.monotonic()
        raise
    _failed_pulls.pop(key, None)


def _take_down(driver: EdgeDriver) -> None:
    current = driver.inspect()
    if current is not None:
        driver.remove(current.container_id)
        _announce("EdgeProxyRemoved", f"host {driver.name} is no longer an edge: its proxy was removed")


def _announce(reason: str, message: str) -> None:
    with session_scope() as session:
        _announce_in(session, reason, message)


def _announce_in(session: Session, reason: str, message: str, *, warning: bool = False) -> None:
    """The edges' events go to every deployment they serve: that is who they concern."""
    for deployment_id in endpoint_repo.with_endpoints(session):
        event_repo.record(session, deployment_id, reason, message, warning=warning)


def drain(settings: Settings, addresses: Iterable[str], timeout_s: float) -> dict[str, int]:
    """Wait until no edge has a request in flight to ``addresses`` (taken out of their
    configs already), or ``timeout_s`` passed. Returns what was still in flight then."""
    wanted = set(addresses)
    targets, _ = _targets()
    drivers = [EdgeDriver(client_for(t.address, settings.docker_timeout_s))
               for t in targets if t.edge and t.reachable]
    deadline = time.monotonic() + timeout_s
    left: dict[str, int] = {}
    while True:
        left = {}
        for driver in drivers:
            try:
                current = driver.inspect()
            except EngineError:
                continue
            if current is None or not current.running:
                continue  # a proxy that is not there has nothing in flight
            try:
                counts = driver.in_flight(current.container_id, settings.edge_admin_address)
            except EngineError as exc:
                log.info("edge %s: cannot see its requests in flight: %s", driver.name, exc)
                continue
            for address, n in counts.items():
                if address in wanted and n > 0:
                    left[address] = left.get(address, 0) + n
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)
