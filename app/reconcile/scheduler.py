"""Placement: which host takes the next replica. Pure and deterministic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.reconcile import host_access
from app.reconcile.host_access import AllowEntry, Bind, within
from app.reconcile.types import HostLoad, HostView, Placement


@dataclass(frozen=True)
class Constraint:
    key: str
    value: str
    equal: bool

    @classmethod
    def parse(cls, text: str) -> Constraint:
        for op, equal in (("==", True), ("!=", False)):
            if op in text:
                key, value = text.split(op, 1)
                key, value = key.strip(), value.strip()
                if key and value:
                    return cls(key, value, equal)
        raise ValueError(f"constraint {text!r} is not of the form key==value or key!=value")

    def matches(self, labels: Mapping[str, str]) -> bool:
        return (labels.get(self.key) == self.value) == self.equal

    def __str__(self) -> str:
        return f"{self.key}{'==' if self.equal else '!='}{self.value}"


@dataclass
class Occupancy:
    """What this deployment plus everything else already holds on each host."""

    own: Counter[str] = field(default_factory=Counter)
    other: Mapping[str, HostLoad] = field(default_factory=dict)
    cpus: Counter[str] = field(default_factory=Counter)
    memory: Counter[str] = field(default_factory=Counter)
    ports: dict[str, set[tuple[int, str]]] = field(default_factory=dict)

    def add(self, host: str, placement: Placement) -> None:
        self.own[host] += 1
        self.cpus[host] += placement.cpus
        self.memory[host] += placement.memory_bytes
        self.ports.setdefault(host, set()).update(placement.host_ports)


def refused_bind(host: HostView, binds: Iterable[Bind]) -> Bind | None:
    """The first of ``binds`` this host's allow list refuses, if any."""
    for bind in binds:
        if host_access.refusal(bind, host.bind_allow, host.protected) is not None:
            return bind
    return None


def bind_refusals(
    binds: Sequence[Bind], global_allow: Sequence[AllowEntry], hosts: Sequence[HostView]
) -> list[tuple[int | None, str]]:
    """Why a spec's binds can run nowhere: (index in volumes, reason) for each bind that
    neither the global entries nor any host's allow, then (None, reason) when each is
    allowed somewhere but no one place allows them all. Empty when they can run.

    A bind the global entries allow may run on any host (a host's own engine socket and
    data root aside, which the scheduler keeps from it); one only some hosts allow is
    placed on those."""
    out: list[tuple[int | None, str]] = []
    listing = [h for h in hosts if len(h.bind_allow) > len(global_allow)]  # own entries
    for bind in binds:
        why = host_access.refusal(bind, global_allow)
        if why is None or any(
            host_access.refusal(bind, h.bind_allow, h.protected) is None for h in hosts
        ):
            continue
        if not global_allow and listing:  # the hosts' reasons say more than "none allowed"
            # The most telling one: a host with an entry at or above the path, if any.
            near = [h for h in listing if any(within(bind.source, e.path) for e in h.bind_allow)]
            first = (near or listing)[0]
            why = f"on host {first.name}: " + (
                host_access.refusal(bind, first.bind_allow, first.protected) or "")
            if len(listing) > 1:
                why += f"; the {len(listing) - 1} other hosts with allowed_bind_prefixes refuse it too"
        out.append((bind.index, why))
    if out or all(host_access.refusal(b, global_allow) is None for b in binds):
        return out
    if not any(refused_bind(h, binds) is None for h in hosts):
        sources = ", ".join(b.source for b in binds)
        out.append((None, f"no host allows all of these host paths together: {sources}"))
    return out


def _reject_reason(
    host: HostView, placement: Placement, constraints: Iterable[Constraint], occ: Occupancy
) -> str | None:
    if not host.reachable:
        return f"is {host.state.value}"
    if not host.schedulable:
        return "is not schedulable"
    labels = dict(host.labels)
    for c in constraints:
        if not c.matches(labels):
            return f"lack label {c}" if c.equal else f"have label {c.key}=={c.value}"
    if (bind := refused_bind(host, placement.binds)) is not None:
        if bind.problem:
            return f"cannot bind {bind.source} ({bind.problem})"
        return f"do not allow bind mount {bind.source}"
    if placement.max_per_host is not None and occ.own[host.name] >= placement.max_per_host:
        return f"already run max_per_host={placement.max_per_host}"
    load = occ.other.get(host.name, HostLoad())
    taken = set(load.host_ports) | occ.ports.get(host.name, set())
    if any(p in taken for p in placement.host_ports):
        return "have the host port in use"
    cpus = load.cpus + occ.cpus[host.name] + placement.cpus
    if host.cpus is not None and placement.cpus and cpus > host.cpus + 1e-9:
        return "have no CPU left"
    memory = load.memory_bytes + occ.memory[host.name] + placement.memory_bytes
    if host.memory_bytes is not None and placement.memory_bytes and memory > host.memory_bytes:
        return "have no memory left"
    return None


def choose_host(
    hosts: Iterable[HostView], placement: Placement, occ: Occupancy
) -> tuple[str | None, str]:
    """Return (host name, "") or (None, reason listing why each host was refused)."""
    constraints = [Constraint.parse(c) for c in placement.constraints]
    hosts = list(hosts)
    eligible: list[HostView] = []
    refusals: Counter[str] = Counter()
    for host in hosts:
        reason = _reject_reason(host, placement, constraints, occ)
        if reason is None:
            eligible.append(host)
        else:
            refusals[reason] += 1
    if not eligible:
        if not hosts:
            return None, "no hosts are registered"
        parts = ", ".join(f"{n} {r}" for r, n in sorted(refusals.items()))
        return None, f"0/{len(hosts)} hosts match: {parts}"

    def rank(h: HostView) -> tuple[int, int, str]:
        other = occ.other.get(h.name, HostLoad()).containers
        return occ.own[h.name], other + occ.own[h.name], h.name

    return min(eligible, key=rank).name, ""


def placeable(
    hosts: Iterable[HostView], placement: Placement, others: Mapping[str, HostLoad], want: int
) -> tuple[int, str]:
    """How many replicas of one deployment (up to ``want``) the hosts could hold beside
    everything else (``others``), placed as the planner places them; with the reason the
    next one could not be, when fewer. For an autoscaler's scale-up: one that cannot be
    placed says so instead of asking for replicas that would stay pending."""
    hosts = list(hosts)
    occ = Occupancy(other=others)
    for placed in range(want):
        host, why = choose_host(hosts, placement, occ)
        if host is None:
            return placed, why
        occ.add(host, placement)
    return want, ""
