"""The drift check of settled deployments: which of them the engines contradict.

A deployment is *settled* when its last pass converged with nothing timed left to do
(no health check to probe, no crash back-off to forget, every host in sight): the
reconciler then leaves it to this check instead of a pass of its own every
``drift_check_interval_s``. One listing per host (every container of the installation,
with its state) against the replicas recorded for the settled deployments: those whose
records the engines contradict want a pass; the others cost nothing, and nothing is
written for them. Pure: the service (app.services.drift) reads and lists, this compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Recorded:
    """One replica as its deployment's last pass recorded it."""

    host: str
    container_id: str | None
    state: str


@dataclass(frozen=True)
class Settled:
    deployment_id: str
    replicas: int  # the desired count, which the last pass reached
    recorded: tuple[Recorded, ...]


def drifted(
    settled: Iterable[Settled],
    listed: Mapping[str, Iterable[tuple[str, str, str]]],
    usable_hosts: frozenset[str],
) -> set[str]:
    """Ids of the settled deployments that want a pass now.

    ``listed``: host -> (container id, deployment id, state) of every container of the
    installation, for each host that answered. ``usable_hosts``: the hosts that are ready
    and schedulable; a replica on any other (or on a host that did not answer) wants a
    pass, which decides what that means (move it, wait for the host)."""
    seen: dict[tuple[str, str], dict[str, str]] = {}  # (deployment, host) -> id -> state
    for host, containers in listed.items():
        for container_id, deployment_id, state in containers:
            seen.setdefault((deployment_id, host), {})[container_id] = state
    out: set[str] = set()
    for d in settled:
        running = [r for r in d.recorded if r.state == "running"]
        hosts = {r.host for r in d.recorded}
        if (len(running) != d.replicas or len(running) != len(d.recorded)
                or not hosts <= usable_hosts or not hosts <= listed.keys()):
            out.add(d.deployment_id)
            continue
        expected: dict[str, set[str]] = {}
        for r in d.recorded:
            expected.setdefault(r.host, set()).add(r.container_id or "")
        for host in listed:
            on_host = seen.get((d.deployment_id, host), {})
            if set(on_host) != expected.get(host, set()) or any(
                    state != "running" for state in on_host.values()):
                out.add(d.deployment_id)
                break
    return out
