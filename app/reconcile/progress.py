"""What counts as a rollout's progress, and when its progress deadline has passed.

A rollout progresses when more replicas of its target are ready at once than ever before
in it (a high-water mark), or when fewer containers that must go are left than ever
before (a low-water mark: other templates, slots above the count, replicas on a host they
may not stay on, everything when deleting). Nothing else is progress: a container being
created, started, restarted, recreated after a crash, or merely running does not move
either mark, so a crash loop of any length leaves the clock running from the last real
progress (or the rollout's start), and the deadline fires ``progress_deadline_s`` later.

Pure: the reconciler stores the ``Mark`` this returns on the rollout and hands it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.reconcile.planner import is_ready, misplaced
from app.reconcile.scheduler import Constraint
from app.reconcile.types import Desired, HostState, HostView, ObservedContainer


@dataclass(frozen=True)
class Level:
    """How far one observation is along: what the marks are made from."""

    ready: int  # slots with a ready replica of the target that may stay where it is
    surplus: int  # containers that must go before the rollout is done


@dataclass(frozen=True)
class Mark:
    """The best a rollout has been, and when it last got better."""

    ready: int
    surplus: int
    at: datetime


def level(
    desired: Desired, observed: Iterable[ObservedContainer], hosts: Sequence[HostView],
    *, now: datetime,
) -> Level:
    """Counted over the containers the planner sees (on reachable and unreachable hosts);
    ready only where it can be seen now, as ``planner.summarize`` counts it: a replica on
    an unreachable host holds its slot, so its replacement becoming ready elsewhere is
    progress."""
    by_name = {h.name: h for h in hosts}
    seen = [c for c in observed
            if c.host in by_name and by_name[c.host].state in (HostState.READY,
                                                                HostState.UNREACHABLE)]
    if desired.deleting:
        return Level(ready=0, surplus=len(seen))
    constraints = [Constraint.parse(c) for c in desired.placement.constraints]

    def wanted(c: ObservedContainer) -> bool:
        return (0 <= c.slot < desired.replicas and c.template_hash == desired.template_hash
                and not misplaced(c, by_name, constraints, desired.placement.binds))

    ready = {c.slot for c in seen
             if wanted(c) and by_name[c.host].state is HostState.READY
             and is_ready(c, desired.strategy.min_ready_s, now)}
    return Level(ready=len(ready), surplus=sum(1 for c in seen if not wanted(c)))


def advance(mark: Mark | None, seen: Level, *, now: datetime, started: datetime) -> Mark:
    """The mark after seeing ``seen`` at ``now``. The first look sets it, dated ``started``
    (the rollout's start: beginning is not progress)."""
    if mark is None:
        return Mark(seen.ready, seen.surplus, started)
    if seen.ready > mark.ready or seen.surplus < mark.surplus:
        return Mark(max(seen.ready, mark.ready), min(seen.surplus, mark.surplus), now)
    return mark


def deadline_at(mark: Mark | None, deadline_s: float, *, started: datetime) -> datetime:
    """When the rollout fails unless it progresses first."""
    since = mark.at if mark is not None else started
    return since + timedelta(seconds=deadline_s)


def past_deadline(
    mark: Mark | None, deadline_s: float, *, started: datetime, now: datetime
) -> bool:
    return now >= deadline_at(mark, deadline_s, started=started)
