"""Frozen value types the planner reads and writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.reconcile.host_access import ESCALATION_PATHS, AllowEntry, Bind


class HostState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    UNREACHABLE = "unreachable"  # missed heartbeats; its containers are unknown, not gone
    LOST = "lost"  # unreachable past the grace period; its replicas are placed elsewhere


@dataclass(frozen=True)
class HostView:
    name: str
    state: HostState = HostState.READY
    schedulable: bool = True
    labels: tuple[tuple[str, str], ...] = ()
    cpus: float | None = None
    memory_bytes: int | None = None
    # Host paths an admin allows binding here (the global entries, then the host's own),
    # and the paths no broad entry unlocks (the escalation paths, the engine's own).
    bind_allow: tuple[AllowEntry, ...] = ()
    protected: tuple[str, ...] = ESCALATION_PATHS

    @property
    def reachable(self) -> bool:
        return self.state is HostState.READY


@dataclass(frozen=True)
class Strategy:
    max_surge: int = 1
    max_unavailable: int = 0
    min_ready_s: float = 0.0


@dataclass(frozen=True)
class Placement:
    constraints: tuple[str, ...] = ()
    max_per_host: int | None = None
    host_ports: tuple[tuple[int, str], ...] = ()  # fixed (port, protocol) pairs
    cpus: float = 0.0
    memory_bytes: int = 0
    binds: tuple[Bind, ...] = ()  # host paths to bind: only hosts that allow them all


@dataclass(frozen=True)
class Desired:
    deployment: str
    revision: int
    template_hash: str
    replicas: int
    restart_policy: str = "always"  # always | on-failure | never
    strategy: Strategy = field(default_factory=Strategy)
    placement: Placement = field(default_factory=Placement)
    deleting: bool = False


@dataclass(frozen=True)
class ObservedContainer:
    container_id: str
    name: str
    host: str
    slot: int
    template_hash: str
    revision: int
    state: str  # docker's: created | running | restarting | paused | exited | dead | removing
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    health: str = "none"  # none | starting | healthy | unhealthy
    cpus: float = 0.0
    memory_bytes: int = 0
    host_ports: tuple[tuple[int, str], ...] = ()
    # (container_port, host_ip, host_port, protocol) as the engine published them
    published: tuple[tuple[int, str, int, str], ...] = ()


@dataclass(frozen=True)
class SlotRestarts:
    count: int = 0
    last_at: datetime | None = None


@dataclass(frozen=True)
class HostLoad:
    """What else runs on a host (other deployments), for capacity and least-loaded choice."""

    containers: int = 0
    cpus: float = 0.0
    memory_bytes: int = 0
    host_ports: frozenset[tuple[int, str]] = frozenset()


# ---- actions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    slot: int
    host: str
    name: str
    reason: str


@dataclass(frozen=True)
class Start:
    container: ObservedContainer
    reason: str


@dataclass(frozen=True)
class Remove:
    container: ObservedContainer
    reason: str
    crashed: bool = False  # counts as a restart of its slot (for back-off)


Action = Create | Start | Remove


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    # When nothing can be done now but something will be later (back-off, min_ready_s).
    wake_at: datetime | None = None
    pending: tuple[str, ...] = ()  # why replicas could not be placed
    stable_slots: frozenset[int] = frozenset()  # slots whose restart count may reset
    # Creates the room ``actions``' removes free: made in the same pass once every one of
    # those removes has succeeded (the old containers are gone first, so the surge bound
    # holds at every moment), instead of a whole pass later. Never without ``actions``.
    then: tuple[Action, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.actions
