"""When a host is ready, unreachable or lost: the heartbeat's decision, as pure code.

The heartbeat pings every host and hands each answer (or its absence) to `after_ping`;
it only writes what comes back. A host that misses a heartbeat becomes unreachable and
keeps its replicas; it is lost once it has not answered for the grace period, counted
from its last answer (as Kubernetes counts a node's grace from its last heartbeat: the
host died at some moment after that answer, never before), once per outage, and ready
again as soon as it answers.

Ticks come every heartbeat interval, so the end of the grace usually falls between two
of them: the tick before it asks for a check of its own at that moment (``recheck_at``),
and the host is lost then, not up to a tick later. So at the defaults (5 s ticks, 15 s
grace) a host's replicas move between ``grace - tick`` and ``grace`` after it died,
plus the time to start them elsewhere.

Checks overlap (a slow tick and the next one, a tick and a check between ticks) and
write in any order, so each answer is judged against what the row holds when it is
written, not only against what the check saw when it began:

- A miss sent before the host's last recorded answer (``last_answer``: when the answered
  heartbeat was sent) is stale and changes nothing.
- A suspect host (not ready) becomes ready again only on an answer to a check that began
  knowing of this outage (``seen``), which asks on a new connection. An answer to a check
  that began while the host looked ready came on a kept-alive connection, and a stopping
  engine goes on serving those for a second or two after it stopped accepting new ones
  (dockerd removes its socket at SIGTERM): it changes nothing either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.reconcile.types import HostState

# Clocks and timers are not exact: a check this close to the grace's end counts as at it.
SLACK = timedelta(seconds=0.1)


@dataclass(frozen=True)
class Liveness:
    """What the database holds about a host's reachability."""

    state: str  # HostState value as stored: pending | ready | unreachable
    unreachable_since: datetime | None = None  # its last answer before the outage
    lost_at: datetime | None = None
    last_answer: datetime | None = None  # when the last heartbeat it answered was sent

    @property
    def suspect(self) -> bool:
        """Not known to be up: a check of it asks on a new connection."""
        return self.state != HostState.READY


@dataclass(frozen=True)
class HostNotice:
    reason: str  # HostReady | HostUnreachable | HostLost: an event of each deployment there
    message: str
    warning: bool


@dataclass(frozen=True)
class Verdict:
    liveness: Liveness
    notice: HostNotice | None = None  # set when the change is news to its deployments
    # Check this host again at this moment: its grace ends before the next tick would
    # see it (None: the ticks will do).
    recheck_at: datetime | None = None
    # The answer is older than what the row holds: write nothing (not even engine info).
    stale: bool = False

    @property
    def changed(self) -> bool:
        return self.notice is not None


def outage_start(before: Liveness, tick_started: datetime, tick: timedelta) -> datetime:
    """Where an outage's grace is counted from: the host's last answer, but never more
    than a tick before the first missed heartbeat (after Moorage's own heartbeats stopped
    for a while, an old answer says nothing of when the host went)."""
    if before.unreachable_since is not None:
        return before.unreachable_since
    if before.last_answer is None:
        return tick_started
    return min(tick_started, max(before.last_answer, tick_started - tick))


def after_ping(
    name: str, before: Liveness, error: str | None, *, tick_started: datetime,
    grace: timedelta, tick: timedelta, seen: Liveness | None = None,
) -> Verdict:
    """The host's liveness after a heartbeat check that began (and sent its ping) at
    ``tick_started``; ``error`` is None when the host answered, else why it did not.
    ``before`` is the row as locked for this write, ``seen`` the row as the check read it
    when it began (None: the same, no other check wrote in between)."""
    seen = before if seen is None else seen
    if error is None:
        answered = Liveness(HostState.READY, last_answer=max(
            tick_started, before.last_answer or tick_started))
        if before.state == HostState.READY:
            return Verdict(answered)
        if not seen.suspect or seen.unreachable_since != before.unreachable_since:
            # Asked before this outage was known, on a kept-alive connection: no news.
            return Verdict(before, stale=True)
        return Verdict(answered, HostNotice("HostReady", f"host {name} answers again", False))

    if before.last_answer is not None and before.last_answer > tick_started:
        return Verdict(before, stale=True)  # it answered a heartbeat sent after this one

    notice = None
    state = before.state
    since = outage_start(before, tick_started, tick)
    lost_at = before.lost_at
    due = since + grace
    if state == HostState.READY:
        state = HostState.UNREACHABLE
        notice = HostNotice(
            "HostUnreachable",
            f"host {name} missed a heartbeat: {error}; its replicas stay put until "
            f"{grace.total_seconds():g}s after its last answer", True)
    recheck_at = None
    if lost_at is None and tick_started >= due - SLACK:
        lost_at = tick_started
        notice = HostNotice(
            "HostLost",
            f"host {name} has not answered for {grace.total_seconds():g}s; its replicas "
            "move to other hosts", True)
    elif lost_at is None and due < tick_started + tick + SLACK:
        recheck_at = due  # the next tick would come after it (or only just before)
    return Verdict(Liveness(state, since, lost_at, before.last_answer), notice, recheck_at)
