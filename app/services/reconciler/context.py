"""What one pass knows: loaded in one short transaction, then detached from any session."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import session_scope
from app.dockerhost import EngineError, client_for
from app.models import Host, Replica, Revision
from app.reconcile import template as tpl
from app.reconcile.health import HealthState
from app.reconcile.types import (
    Action,
    Desired,
    HostLoad,
    HostView,
    ObservedContainer,
    SlotRestarts,
)
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.repositories import replicas as replica_repo
from app.repositories import stacks as stack_repo
from app.services import fleet, images, installation, networks


@lru_cache
def docker_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(get_settings().docker_pool_size, thread_name_prefix="docker")


@dataclass
class Context:
    """What one pass knows, detached from any session."""

    deployment_id: uuid.UUID
    name: str
    generation: int  # of the desired state this pass planned against
    desired: Desired
    revision: Revision  # its row, for the image it pinned; what it runs is ``template``
    template: tpl.Template
    hosts: dict[str, Host]
    views: list[HostView]
    restarts: dict[int, SlotRestarts]
    known: dict[tuple[str, str], Replica]  # (host, container name) -> last record
    installation_id: str  # the label that marks the containers this installation made
    # The upstreams its edges were last given (app.services.endpoints); only the lease
    # holder writes them, so as loaded they are as fresh as a read later in the pass.
    endpoint_state: dict | None
    loads: dict[str, HostLoad] = field(default_factory=dict)  # other deployments, per host
    image_source: images.ImageSource | None = None
    # Where the other members of its networks run: network -> deployment -> hosts
    # (loaded only for a deployment on a network; app.services.networks).
    network_peers: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    # The service name when a stack owns it (`db` of `shop-db`), its alias on its networks.
    stack_service: str | None = None

    @property
    def health_check(self) -> tpl.HealthCheck | None:
        return self.template.health_check

    @property
    def progress_deadline_s(self) -> float:
        return self.template.update_strategy.progress_deadline_s

    @property
    def auto_rollback(self) -> bool:
        return self.template.update_strategy.auto_rollback


@dataclass
class Observation:
    containers: list[ObservedContainer]
    views: list[HostView]
    unreachable: dict[str, str] = field(default_factory=dict)  # host -> error
    health: dict[tuple[str, str], HealthState] = field(default_factory=dict)
    # The containers whose probe failed in this pass and counted toward their retries.
    failed_now: frozenset[tuple[str, str]] = frozenset()
    next_probe_at: datetime | None = None


@dataclass
class Outcome:
    action: Action
    error: EngineError | None = None
    container_id: str | None = None


def restart_counts(raw: dict | None) -> dict[int, SlotRestarts]:
    out = {}
    for slot, value in (raw or {}).items():
        last = value.get("last_at")
        out[int(slot)] = SlotRestarts(
            int(value.get("count", 0)), datetime.fromisoformat(last) if last else None
        )
    return out


def client(settings: Settings, host: Host):
    return client_for(fleet.address(host), settings.docker_timeout_s)


def load(
    deployment_id: uuid.UUID, settings: Settings, on_generation: Callable[[int], None]
) -> Context | None:
    """Load what a pass needs. ``on_generation`` hears the generation as soon as it is read,
    before anything below can fail (the loop compares it with the one it leaves)."""
    with session_scope() as session:
        # One statement: a deployment deleted meanwhile is gone, not half there.
        found = deployment_repo.find_with_revision(session, deployment_id)
        if found is None:
            return None
        deployment, revision = found
        hosts = host_repo.all_hosts(session)
        by_id = {h.id: h for h in hosts}
        known = {
            (by_id[r.host_id].name, r.container_name): r
            for r in replica_repo.for_deployment(session, deployment.id)
            if r.host_id in by_id
        }
        on_generation(deployment.generation)
        # The typed template, never the request model; the replica count is the
        # deployment's (a scale makes no revision).
        template = tpl.from_dict(revision.template)
        desired = template.desired(
            deployment.name, revision.number, deployment.replicas, revision.template_hash,
            deleting=deployment.deleting, settle_s=settings.ready_settle_s,
        )
        # Inside the block: after it, the session would begin a new transaction that
        # nothing ends (on SQLite a write lock held until the process exits).
        loads = other_loads(session, deployment.id, by_id)
        installation_id = installation.installation_id(session)
        network_peers = networks.peers(session, deployment.id, template.container.networks)
        stack = stack_repo.find(session, deployment.stack_id) if deployment.stack_id else None
        stack_service = deployment.name.removeprefix(f"{stack.name}-") if stack else None
        image_source = images.ImageSource(
            deployment.id, template.container.image, template.registry_username,
            revision.registry_password, settings.pull_progress_interval_s,
        )
        session.expunge_all()
    return Context(
        deployment_id=deployment_id,
        name=deployment.name,
        generation=deployment.generation,
        desired=desired,
        revision=revision,
        template=template,
        hosts={h.name: h for h in hosts},
        views=fleet.views(hosts, settings.bind_allow),
        loads=loads,
        restarts=restart_counts(deployment.slot_restarts),
        known=known,
        installation_id=installation_id,
        endpoint_state=deployment.endpoint_state,
        image_source=image_source,
        network_peers=network_peers,
        stack_service=stack_service,
    )


# Revision id -> its template's footprint. Revisions are immutable, so an entry never
# goes stale; bounded, so a long-lived worker does not keep every revision ever made.
_FOOTPRINTS: OrderedDict[uuid.UUID, tpl.Footprint] = OrderedDict()
_FOOTPRINTS_MAX = 8192
_FOOTPRINTS_LOCK = threading.Lock()


def _footprints(session: Session, revision_ids: set[uuid.UUID]) -> dict[uuid.UUID, tpl.Footprint]:
    with _FOOTPRINTS_LOCK:
        missing = [r for r in revision_ids if r not in _FOOTPRINTS]
    parsed = {revision_id: tpl.from_dict(stored).footprint
              for revision_id, stored in replica_repo.templates(session, missing).items()}
    with _FOOTPRINTS_LOCK:
        _FOOTPRINTS.update(parsed)
        out = {}
        for r in revision_ids:
            if r in _FOOTPRINTS:
                _FOOTPRINTS.move_to_end(r)
                out[r] = _FOOTPRINTS[r]
        while len(_FOOTPRINTS) > _FOOTPRINTS_MAX:
            _FOOTPRINTS.popitem(last=False)
    return out


def other_loads(
    session: Session, deployment_id: uuid.UUID, hosts: dict[uuid.UUID, Host]
) -> dict[str, HostLoad]:
    """What other deployments hold on each host: capacity is shared."""
    loads: dict[str, HostLoad] = {}
    rows = replica_repo.footprints(session, exclude=deployment_id)
    footprints = _footprints(session, {revision_id for _, revision_id, _ in rows})
    for host_id, revision_id, count in rows:
        host = hosts.get(host_id)
        footprint = footprints.get(revision_id)
        if host is None or footprint is None:  # gone meanwhile: it holds nothing now
            continue
        was = loads.get(host.name, HostLoad())
        loads[host.name] = HostLoad(
            containers=was.containers + count,
            cpus=was.cpus + footprint.cpus * count,
            memory_bytes=was.memory_bytes + footprint.memory_bytes * count,
            host_ports=was.host_ports | frozenset(footprint.host_ports),
        )
    return loads
