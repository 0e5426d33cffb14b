"""Hosts as the rest of Moorage sees them: addresses to reach, views to plan with."""

from __future__ import annotations

from collections.abc import Sequence

from app.dockerhost import EngineAddress
from app.models import Host, Replica
from app.reconcile import host_access
from app.reconcile.host_access import AllowEntry
from app.reconcile.types import HostState, HostView, ObservedContainer


def address(host: Host) -> EngineAddress:
    return EngineAddress(host.name, host.url, host.tls_ca_cert, host.tls_client_cert,
                         host.tls_client_key, host.ssh_private_key, host.ssh_known_hosts)


def bind_allow(host: Host, global_allow: Sequence[AllowEntry] = ()) -> tuple[AllowEntry, ...]:
    """The host paths deployments may bind on ``host``: the global entries, then its own.
    An entry that does not parse (it was validated when set) allows nothing."""
    own = []
    for item in host.allowed_bind_prefixes or []:
        try:
            own.append(AllowEntry.parse(item))
        except ValueError:
            continue
    return tuple(dict.fromkeys([*global_allow, *own]))


def engine_paths(host: Host) -> list[str | None]:
    """Paths on the host that are its engine: its socket (for a unix:// url) and data root."""
    socket = host.url[len("unix://"):] if host.url.startswith("unix://") else None
    return [socket, host.engine_root_dir]


def views(hosts: list[Host], global_allow: Sequence[AllowEntry] = ()) -> list[HostView]:
    """Hosts as the planner sees them. An unreachable host's replicas stay put (unknown)
    until a heartbeat declares it lost (``lost_at``, after the grace period); then they
    move. One decision, made by the heartbeat, so the events and the moves agree.
    ``global_allow``: MOORAGE_ALLOWED_BIND_PREFIXES, which every host allows."""
    out = []
    for h in hosts:
        if h.state in ("ready", "pending"):
            state = HostState.READY
        elif h.lost_at is not None:
            state = HostState.LOST
        else:
            state = HostState.UNREACHABLE
        out.append(HostView(
            name=h.name, state=state, schedulable=h.schedulable,
            labels=tuple(sorted(h.labels.items())), cpus=h.cpus, memory_bytes=h.memory_bytes,
            bind_allow=bind_allow(h, global_allow),
            protected=host_access.protected_paths(engine_paths(h)),
        ))
    return out


def observed_from_record(r: Replica, host: str, state: str) -> ObservedContainer:
    """A replica as last recorded, for when its engine cannot be asked (or need not be)."""
    return ObservedContainer(
        container_id=r.container_id or r.container_name,
        name=r.container_name,
        host=host,
        slot=r.slot,
        template_hash=r.template_hash,
        revision=r.revision,
        state=state,
        exit_code=r.exit_code,
        started_at=r.started_at,
        health=r.health,
    )
