"""Networks and discovery by name: the rules, pure (no I/O).

A deployment's ``networks`` are Docker user-defined bridge networks, made by Moorage on
each host where a member runs, with the deployment's name as every replica's DNS alias,
so members reach each other as ``db:5432``. A bridge network is one host's: the engine's
DNS answers only for containers on that host. So a name resolves only among members on
the same host, and ``spread`` says so whenever members run on more than one host (a
name must never half-work in silence).

The shell (app.services.networks) asks these rules which networks to ensure before it
creates containers, which of Moorage's networks on a host are unused (to remove them),
and what to tell a deployment whose network spans hosts.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from app.reconcile.types import Action, Create, Start

# A DNS label: the deployment names that become aliases are DNS labels too.
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Names the engine gives its own networks (or network modes): never a user network.
RESERVED = frozenset({"bridge", "host", "none", "default", "ingress", "container"})
MAX_PER_DEPLOYMENT = 16


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a network's name, or None when it can."""
    if not NAME.match(name):
        return (f"{name!r} is not a network name (a DNS label: lower-case letters, digits "
                "and '-', 1-63 characters, starting and ending with a letter or digit)")
    if name in RESERVED:
        return f"{name!r} is the engine's own network name; choose another"
    return None


def needed_on_hosts(actions: Iterable[Action], networks: Collection[str]) -> dict[str, tuple[str, ...]]:
    """The networks each host must have before a batch runs there: the template's, on
    every host where it creates or starts a replica (a remove needs none)."""
    if not networks:
        return {}
    wanted = tuple(sorted(set(networks)))
    hosts = {a.host for a in actions if isinstance(a, Create)}
    hosts |= {a.container.host for a in actions if isinstance(a, Start)}
    return dict.fromkeys(sorted(hosts), wanted)


@dataclass(frozen=True)
class HostNetwork:
    """One of this installation's networks on a host, as the engine lists it."""

    id: str
    name: str


def unused(owned: Iterable[HostNetwork], referenced: Collection[str]) -> list[HostNetwork]:
    """Moorage's networks on a host that nothing uses, to remove: no container on the
    host (Moorage's or not, running or stopped) names it, by name or id. A stopped
    container keeps its networks by name and could not start again without them, and a
    container Moorage does not own is never detached, so any reference keeps it."""
    return [n for n in owned if n.name not in referenced and n.id not in referenced]


@dataclass(frozen=True)
class Spread:
    """Where a network's members run, seen from one of them. ``unreachable`` lists
    (caller, host, callee): the caller's replicas on that host cannot reach the callee by
    name, because none of the callee's replicas runs there."""

    network: str
    members: tuple[tuple[str, tuple[str, ...]], ...]  # (deployment, its hosts), by name
    unreachable: tuple[tuple[str, str, str], ...]

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(sorted({h for _, hosts in self.members for h in hosts}))

    @property
    def message(self) -> str:
        where = "; ".join(f"{m} on {', '.join(hosts)}" for m, hosts in self.members)
        text = (f"network {self.network} spans hosts {', '.join(self.hosts)} ({where}): a name "
                "on a network resolves only to members on the same host")
        if self.unreachable:
            shown = [f"{caller} on {host} cannot reach {callee}"
                     for caller, host, callee in self.unreachable[:3]]
            more = len(self.unreachable) - len(shown)
            text += f", so by name {', '.join(shown)}" + (f" (and {more} more)" if more else "")
        else:
            text += ", so by name each member reaches only the replicas on its own host"
        return (f"{text}. Across hosts use the deployment's endpoint, or place the members "
                "on one host (placement constraints)")


def spread(
    networks: Iterable[str], members: Mapping[str, Mapping[str, Collection[str]]]
) -> list[Spread]:
    """For each of ``networks``: its members' hosts (``members[network][deployment]``,
    the deployment asking included), when they span more than one host and there are at
    least two members that run somewhere. A member with no replica running resolves for
    nobody anywhere, which is no surprise, so it does not count."""
    out = []
    for network in sorted(set(networks)):
        running = {m: frozenset(h) for m, h in (members.get(network) or {}).items() if h}
        hosts = frozenset().union(*running.values()) if running else frozenset()
        if len(running) < 2 or len(hosts) < 2:
            continue
        unreachable = tuple(
            (caller, host, callee)
            for caller in sorted(running) for host in sorted(running[caller])
            for callee in sorted(running) if callee != caller and host not in running[callee]
        )
        out.append(Spread(
            network=network,
            members=tuple((m, tuple(sorted(running[m]))) for m in sorted(running)),
            unreachable=unreachable,
        ))
    return out
