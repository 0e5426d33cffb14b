"""Hosts as the rest of Moorage sees them: addresses to reach, views to plan with."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.config import get_settings
from app.db import utcnow
from app.dockerhost import EngineAddress
from app.logs import register_secret_values
from app.models import Host, Replica
from app.reconcile.types import HostState, HostView, ObservedContainer


def address(host: Host) -> EngineAddress:
    if host.ssh_private_key:  # in every process that may use it, not only the API
        register_secret_values([host.ssh_private_key, host.ssh_private_key.strip()])
    return EngineAddress(host.name, host.url, host.tls_ca_cert, host.tls_client_cert,
                         host.tls_client_key, host.ssh_private_key, host.ssh_known_hosts)


def views(hosts: list[Host], now: datetime | None = None) -> list[HostView]:
    """Hosts as the planner sees them. An unreachable host's replicas stay put (unknown)
    until it has been gone for the grace period; then it is lost and they move."""
    now = now or utcnow()
    grace = timedelta(seconds=get_settings().host_grace_s)
    out = []
    for h in hosts:
        if h.state in ("ready", "pending"):
            state = HostState.READY
        elif h.unreachable_since is not None and now - h.unreachable_since >= grace:
            state = HostState.LOST
        else:
            state = HostState.UNREACHABLE
        out.append(HostView(
            name=h.name, state=state, schedulable=h.schedulable,
            labels=tuple(sorted(h.labels.items())), cpus=h.cpus, memory_bytes=h.memory_bytes,
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
