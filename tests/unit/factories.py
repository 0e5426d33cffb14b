"""Small builders for the planner's value types, so tests read as tables."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from app.reconcile.host_access import parse_entries, protected_paths
from app.reconcile.planner import container_name
from app.reconcile.types import (
    Desired,
    HostState,
    HostView,
    ObservedContainer,
    Placement,
    Strategy,
)

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
DEPLOYMENT = "web"
OLD = "0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld"  # template hashes; 10-char prefixes differ
NEW = "new0new0new0new0new0new0new0new0"

_ids = itertools.count(1)


def at(seconds: float) -> datetime:
    """T0 shifted by ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def desired(
    replicas: int = 3,
    *,
    template: str = NEW,
    revision: int = 2,
    restart_policy: str = "always",
    max_surge: int = 1,
    max_unavailable: int = 0,
    min_ready_s: float = 0.0,
    placement: Placement | None = None,
    deleting: bool = False,
    deployment: str = DEPLOYMENT,
) -> Desired:
    return Desired(
        deployment=deployment,
        revision=revision,
        template_hash=template,
        replicas=replicas,
        restart_policy=restart_policy,
        strategy=Strategy(max_surge, max_unavailable, min_ready_s),
        placement=placement or Placement(),
        deleting=deleting,
    )


def host(
    name: str = "h1",
    state: HostState = HostState.READY,
    *,
    schedulable: bool = True,
    labels: dict[str, str] | None = None,
    cpus: float | None = None,
    memory_bytes: int | None = None,
    bind_allow: tuple[str, ...] = (),
    protected: tuple[str, ...] = (),
) -> HostView:
    """``bind_allow``: allow-list entries as text; ``protected``: escalation paths of the
    host's own (its engine socket and data root), beside the fixed ones."""
    return HostView(
        name=name,
        state=state,
        schedulable=schedulable,
        labels=tuple(sorted((labels or {}).items())),
        cpus=cpus,
        memory_bytes=memory_bytes,
        bind_allow=parse_entries(bind_allow),
        protected=protected_paths(protected),
    )


def hosts(*names: str) -> list[HostView]:
    return [host(n) for n in names]


def container(
    slot: int,
    *,
    template: str = NEW,
    host: str = "h1",
    state: str = "running",
    exit_code: int | None = None,
    started_at: datetime | None = T0,
    finished_at: datetime | None = None,
    health: str = "none",
    revision: int | None = None,
    container_id: str | None = None,
    deployment: str = DEPLOYMENT,
    cpus: float = 0.0,
    memory_bytes: int = 0,
    host_ports: tuple[tuple[int, str], ...] = (),
) -> ObservedContainer:
    if revision is None:
        revision = 2 if template == NEW else 1
    return ObservedContainer(
        container_id=container_id or f"id{next(_ids)}",
        name=container_name(deployment, slot, template),
        host=host,
        slot=slot,
        template_hash=template,
        revision=revision,
        state=state,
        exit_code=exit_code,
        started_at=started_at,
        finished_at=finished_at,
        health=health,
        cpus=cpus,
        memory_bytes=memory_bytes,
        host_ports=host_ports,
    )


def exited(slot: int, code: int = 1, *, finished: datetime = T0, **kw) -> ObservedContainer:
    return container(slot, state="exited", exit_code=code, finished_at=finished, **kw)


def fleet(n: int, *, template: str = NEW, host_names: tuple[str, ...] = ("h1",), **kw) -> list[ObservedContainer]:
    """``n`` running containers in slots 0..n-1, spread round-robin over ``host_names``."""
    return [container(s, template=template, host=host_names[s % len(host_names)], **kw) for s in range(n)]
