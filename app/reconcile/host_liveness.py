"""When a host is ready, unreachable or lost: the heartbeat's decision, as pure code.

The heartbeat pings every host and hands each answer (or its absence) to `after_ping`;
it only writes what comes back. A host that misses a heartbeat becomes unreachable and
keeps its replicas; it is lost at the tick nearest the end of the grace period (never a
whole tick after it), once per outage, and ready again as soon as it answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.reconcile.types import HostState


@dataclass(frozen=True)
class Liveness:
    """What the database holds about a host's reachability."""

    state: str  # HostState value as stored: pending | ready | unreachable
    unreachable_since: datetime | None = None
    lost_at: datetime | None = None


@dataclass(frozen=True)
class HostNotice:
    reason: str  # HostReady | HostUnreachable | HostLost: an event of each deployment there
    message: str
    warning: bool


@dataclass(frozen=True)
class Verdict:
    liveness: Liveness
    notice: HostNotice | None = None  # set when the change is news to its deployments

    @property
    def changed(self) -> bool:
        return self.notice is not None


def after_ping(
    name: str, before: Liveness, error: str | None, *, tick_started: datetime,
    grace: timedelta, tick: timedelta,
) -> Verdict:
    """The host's liveness after a heartbeat tick that began at ``tick_started``;
    ``error`` is None when the host answered, else why it did not."""
    if error is None:
        ready = Liveness(HostState.READY)
        if before.state == HostState.READY:
            return Verdict(ready)
        return Verdict(ready, HostNotice("HostReady", f"host {name} answers again", False))

    notice = None
    state = before.state
    if state == HostState.READY:
        state = HostState.UNREACHABLE
        notice = HostNotice(
            "HostUnreachable",
            f"host {name} missed a heartbeat: {error}; its replicas stay put for "
            f"{grace.total_seconds():g}s", True)
    since = before.unreachable_since or tick_started
    lost_at = before.lost_at
    # Lost at the tick nearest the grace's end: half a tick early beats a whole tick late.
    if lost_at is None and tick_started + tick / 2 >= since + grace:
        lost_at = tick_started
        notice = HostNotice(
            "HostLost",
            f"host {name} unreachable for {grace.total_seconds():g}s; its replicas move to "
            "other hosts", True)
    return Verdict(Liveness(state, since, lost_at), notice)
