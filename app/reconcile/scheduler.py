"""Placement: which host takes the next replica. Pure and deterministic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
