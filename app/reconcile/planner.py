"""desired + observed -> the next batch of actions.

The reconciler calls ``plan`` in a loop: observe, plan, execute the batch concurrently,
observe again. Each call looks only at the present (level-triggered), so re-running it
after a crash is always safe; a plan applied and then re-planned yields nothing new.

Containers are grouped by *slot* (replica ordinal). A slot whose containers run an older
template is updated within the strategy's bounds: never more than
``replicas + max_surge`` containers (every one there is counts: stopping, crashed,
created, restarting) and never fewer than ``replicas - max_unavailable`` ready ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.reconcile.host_access import Bind
from app.reconcile.scheduler import Constraint, Occupancy, choose_host, refused_bind
from app.reconcile.types import (
    Action,
    Create,
    Desired,
    HostLoad,
    HostState,
    HostView,
    ObservedContainer,
    Placement,
    Plan,
    Remove,
    SlotRestarts,
    Start,
)

LIVE_STATES = frozenset({"created", "running", "restarting", "paused"})
DEAD_STATES = frozenset({"exited", "dead"})


@dataclass(frozen=True)
class BackoffPolicy:
    base_s: float = 1.0
    max_s: float = 60.0
    stable_after_s: float = 30.0

    def delay(self, restarts: int) -> timedelta:
        return timedelta(seconds=min(self.max_s, self.base_s * (2 ** min(restarts, 30))))


def container_name(deployment: str, slot: int, template_hash: str) -> str:
    # Deterministic: a create retried after a crash hits the existing container instead
    # of making a second one. Dots never occur in a deployment name, so it parses back.
    return f"{deployment}.{slot}.{template_hash[:10]}"


def is_ready(c: ObservedContainer, min_ready_s: float, now: datetime) -> bool:
    if c.state != "running" or c.health not in ("none", "healthy"):
        return False
    if min_ready_s <= 0:
        return True
    # timedelta, not float seconds: the same rounding as the wake_at that _note_running sets.
    return c.started_at is not None and now - c.started_at >= timedelta(seconds=min_ready_s)


def wants_restart(c: ObservedContainer, restart_policy: str) -> bool:
    if restart_policy == "never":
        return False
    if restart_policy == "on-failure":
        return c.exit_code not in (0, None)
    return True


def misplaced(
    c: ObservedContainer, hosts: Mapping[str, HostView], constraints: Sequence[Constraint],
    binds: Sequence[Bind] = (),
) -> bool:
    """On a host it may no longer use: gone, drained, its labels no longer match, or its
    allow list was narrowed so the host path is not for it now."""
    host = hosts.get(c.host)
    if host is None or not host.schedulable:
        return True
    if refused_bind(host, binds) is not None:
        return True
    labels = dict(host.labels)
    return not all(k.matches(labels) for k in constraints)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class _Planner:
    def __init__(
        self,
        desired: Desired,
        observed: Sequence[ObservedContainer],
        hosts: Sequence[HostView],
        restarts: Mapping[int, SlotRestarts],
        now: datetime,
        loads: Mapping[str, HostLoad],
        backoff: BackoffPolicy,
    ) -> None:
        self.d = desired
        self.hosts = list(hosts)
        self.host_by_name = {h.name: h for h in self.hosts}
        self.constraints = [Constraint.parse(c) for c in desired.placement.constraints]
        self.restarts = restarts
        self.now = now
        self.backoff = backoff
        state = {h.name: h.state for h in hosts}
        # Containers on a reachable host can be acted on; on an unreachable one they are
        # unknown (they hold their slot, untouched); on a lost host they no longer count.
        self.reachable = [c for c in observed if state.get(c.host) is HostState.READY]
        self.unknown = [c for c in observed if state.get(c.host) is HostState.UNREACHABLE]
        self.on_lost = [c for c in observed if state.get(c.host) is HostState.LOST]
        self.actions: list[Action] = []
        self.then: list[Action] = []  # creates once the batch's removes have succeeded
        self.removing: set[str] = set()
        self.wake_at: datetime | None = None
        self.pending: list[str] = []
        self.stable: set[int] = set()
        self.occ = Occupancy(other=loads)
        for c in self.reachable + self.unknown:
            self.occ.add(c.host, self._footprint(c))

    # -- helpers -------------------------------------------------------------------

    def ready(self, c: ObservedContainer) -> bool:
        return is_ready(c, self.d.strategy.min_ready_s, self.now)

    def _footprint(self, c: ObservedContainer) -> Placement:
        """What an existing container holds on its host.

        One of the current template holds what the placement asks. An older one holds the
        ports it was observed to publish, and resources as observed but never less than the
        placement (the observer may not report them).
        """
        p = self.d.placement
        if c.template_hash == self.d.template_hash:
            return p
        return Placement(
            host_ports=c.host_ports,
            cpus=max(c.cpus, p.cpus),
            memory_bytes=max(c.memory_bytes, p.memory_bytes),
        )

    def _misplaced(self, c: ObservedContainer) -> bool:
        return misplaced(c, self.host_by_name, self.constraints, self.d.placement.binds)

    def _keep_order(self, c: ObservedContainer) -> tuple[bool, bool, str, str]:
        """Of several containers in one slot, the first is the one to keep."""
        return (not self.ready(c), c.state != "running", c.host, c.name)

    def warming(self, c: ObservedContainer) -> bool:
        return c.state == "running" and c.health in ("none", "healthy") and not self.ready(c)

    def remove(self, c: ObservedContainer, reason: str, crashed: bool = False) -> None:
        if c.container_id not in self.removing:
            self.removing.add(c.container_id)
            self.actions.append(Remove(c, reason, crashed))

    def wake(self, at: datetime) -> None:
        self.wake_at = _earliest(self.wake_at, at)

    def hold_up(self, why: str) -> None:
        if why not in self.pending:
            self.pending.append(why)

    def create(self, slot: int, reason: str, *, unplaced: list[str] | None = None) -> bool:
        """Place a replica for ``slot``. When no host can take it, why goes to the plan's
        pending reasons, or to ``unplaced`` for a caller that may do without it."""
        host, why = choose_host(self.hosts, self.d.placement, self.occ)
        if host is None:
            if unplaced is None:
                self.hold_up(why)
            else:
                unplaced.append(why)
            return False
        self.occ.add(host, self.d.placement)
        name = container_name(self.d.deployment, slot, self.d.template_hash)
        self.actions.append(Create(slot, host, name, reason))
        return True

    def _room_after_removes(self) -> int:
        """Surge room once this batch's removes are done (they run first); none when
        a remove leaves a wanted slot empty: that slot is filled first, by the next pass."""
        n = self.d.replicas
        held = {c.slot for c in self.reachable + self.unknown
                if 0 <= c.slot < n and c.container_id not in self.removing}
        held |= {a.slot for a in self.actions if isinstance(a, Create)}
        if {c.slot for c in self.reachable if 0 <= c.slot < n} - held:
            return 0
        remaining = len(self.reachable) + len(self.unknown) - len(self.removing)
        made = sum(isinstance(a, Create) for a in (*self.actions, *self.then))
        return self.d.replicas + self.d.strategy.max_surge - remaining - made

    def create_then(self, slot: int, reason: str) -> bool:
        """A create for ``Plan.then``: placed as if the batch's removes were done."""
        occ = Occupancy(other=self.occ.other)
        for c in self.reachable + self.unknown:
            if c.container_id not in self.removing:
                occ.add(c.host, self._footprint(c))
        for a in (*self.actions, *self.then):
            if isinstance(a, Create):
                occ.add(a.host, self.d.placement)
        host, _ = choose_host(self.hosts, self.d.placement, occ)
        if host is None:
            return False  # the next pass says why, if it still cannot
        name = container_name(self.d.deployment, slot, self.d.template_hash)
        self.then.append(Create(slot, host, name, reason))
        return True

    # -- the plan ------------------------------------------------------------------

    def run(self) -> Plan:
        if self.d.deleting:
            for c in self.reachable:
                self.remove(c, "deployment deleted")
            return self.result()

        n = self.d.replicas
        by_slot: dict[int, list[ObservedContainer]] = defaultdict(list)
        for c in self.reachable:
            if c.slot >= n or c.slot < 0:
                self.remove(c, "scaled down")
            else:
                by_slot[c.slot].append(c)
        unknown_slots = {c.slot for c in self.unknown if 0 <= c.slot < n}
        lost_on: dict[int, str] = {}
        for c in sorted(self.on_lost, key=lambda c: c.host, reverse=True):
            lost_on[c.slot] = c.host  # of several, the first by name: whatever the order

        needs_update: list[tuple[int, list[ObservedContainer]]] = []
        missing: list[int] = []
        for slot in range(n):
            current, outdated = self._slot_current(slot, by_slot.get(slot, []))
            old = self._drop_dead_old(outdated)
            if current is not None and self.ready(current):
                for c in old:
                    self.remove(c, f"replaced by revision {self.d.revision}")
            elif current is None and slot not in unknown_slots:
                if old:
                    needs_update.append((slot, old))
                elif not outdated:
                    missing.append(slot)
                # else its dead old containers go first; the next pass fills it, so the
                # new one never stands beside them outside the surge budget.

        for slot in missing:
            # Said apart: a replica whose host was lost did not vanish behind Moorage's back.
            self.create(slot, f"replacing the one on lost host {lost_on[slot]}"
                        if slot in lost_on else "missing replica")
        self._roll(needs_update)
        return self.result()

    def _slot_current(
        self, slot: int, containers: list[ObservedContainer]
    ) -> tuple[ObservedContainer | None, list[ObservedContainer]]:
        """Settle the slot's current-template container; return it and the old ones."""
        # A current container on a host it may no longer use (drained, its labels no longer
        # match, or it no longer allows a host path the container binds) is moved like an
        # outdated one: replacement first, within bounds.
        current = [c for c in containers
                   if c.template_hash == self.d.template_hash and not self._misplaced(c)]
        old = [c for c in containers if c not in current]
        if not current:
            return None, old
        # Duplicates (e.g. a host came back): keep a ready one, deterministically.
        current.sort(key=self._keep_order)
        keep, extra = current[0], current[1:]
        for c in extra:
            self.remove(c, "duplicate replica")
        if keep.state == "created":
            self.actions.append(Start(keep, "created but not started"))
        elif keep.state in DEAD_STATES:
            self._handle_exit(slot, keep)
        elif keep.state == "running" and keep.health == "unhealthy":
            self._handle_unhealthy(slot, keep)
        elif keep.state == "running":
            self._note_running(slot, keep)
        return keep, old

    def _handle_exit(self, slot: int, c: ObservedContainer) -> None:
        if not wants_restart(c, self.d.restart_policy):
            return
        history = self.restarts.get(slot, SlotRestarts())
        # No finish time (Docker's zero time): count from the latest moment known to precede
        # the exit. Counting from ``now`` would push the restart out again on every pass.
        since = c.finished_at or c.started_at or history.last_at
        due = since + self.backoff.delay(history.count) if since else self.now
        if self.now >= due:
            # Removal frees the deterministic name; the next pass creates the slot anew.
            self.remove(c, f"exited with code {c.exit_code}", crashed=True)
        else:
            self.wake(due)

    def _handle_unhealthy(self, slot: int, c: ObservedContainer) -> None:
        """A replica whose health check failed ``retries`` times in a row is replaced, as
        Kubernetes and Swarm do, with the crash back-off: never sooner than the delay its
        slot's restart count earns after it started (or after the slot last restarted),
        so a replica that is unhealthy from the start restarts ever more slowly."""
        if self.d.restart_policy == "never":
            return
        history = self.restarts.get(slot, SlotRestarts())
        since = max((t for t in (c.started_at, history.last_at) if t is not None),
                    default=None)
        due = since + self.backoff.delay(history.count) if since else self.now
        if self.now >= due:
            self.remove(c, "unhealthy: it failed its health check too many times in a row",
                        crashed=True)
        else:
            self.wake(due)

    def _note_running(self, slot: int, c: ObservedContainer) -> None:
        if c.started_at is None:
            return
        up = self.now - c.started_at
        min_ready = timedelta(seconds=self.d.strategy.min_ready_s)
        if up < min_ready:
            self.wake(c.started_at + min_ready)
        history = self.restarts.get(slot)
        if history and history.count:
            stable = timedelta(seconds=self.backoff.stable_after_s)
            if up >= stable:
                self.stable.add(slot)
            else:
                self.wake(c.started_at + stable)

    def _drop_dead_old(self, old: list[ObservedContainer]) -> list[ObservedContainer]:
        """Old containers that are not running serve nobody: remove them at no cost.

        Of several live old ones in a slot (a rollout overtaken by a newer revision, a host
        that came back) keep the best: the extras would count against the surge budget and,
        when ready, against availability, and a slot cannot be rolled while it holds two.
        """
        alive = []
        for c in old:
            if c.state in LIVE_STATES:
                alive.append(c)
            else:
                self.remove(c, "outdated and not running")
        alive.sort(key=self._keep_order)
        for c in alive[1:]:
            self.remove(c, "duplicate replica")
        return alive[:1]

    def _roll(self, needs_update: list[tuple[int, list[ObservedContainer]]]) -> None:
        if not needs_update:
            return
        n, s = self.d.replicas, self.d.strategy
        # Every container there is counts, whatever its state: a crashed (exited) one stays
        # on the engine until its back-off has passed, and one being removed in this very
        # batch may still be there when the new one starts (they run concurrently).
        total = (len(self.reachable) + len(self.unknown)
                 + sum(isinstance(a, Create) for a in self.actions))
        ready = sum(
            1
            for c in self.reachable
            if c.container_id not in self.removing and c.slot < n and self.ready(c)
        )
        min_available = n - s.max_unavailable
        surge_room = n + s.max_surge - total
        # Failing old containers first: replacing them costs no availability. Then those
        # that publish a fixed host port of the new template: each one replaced frees its
        # host's port for the next surge, where one that does not publish it takes a host
        # for good (rolled last, it would leave a holder with no host to surge to).
        wanted = frozenset(self.d.placement.host_ports)
        needs_update.sort(
            key=lambda item: (any(self.ready(c) or self.warming(c) for c in item[1]),
                              not any(wanted & frozenset(c.host_ports) for c in item[1]),
                              item[0])
        )
        for slot, old in needs_update:
            old_ready = [c for c in old if self.ready(c)]
            if not old_ready and not any(self.warming(c) for c in old):
                for c in old:
                    self.remove(c, f"updating to revision {self.d.revision}")
                continue
            # A warming container (running, healthy, short of min_ready_s) is availability
            # about to arrive: it is replaced like a ready one, never thrown away for free.
            # A surge no host can take holds the rollout up only where the strategy has no
            # other way: with max_unavailable ≥ 1 the slot is replaced in place, now or
            # once the replicas replaced before it are ready (availability, not placement,
            # is what it waits for then).
            unplaced: list[str] = []
            if surge_room > 0 and self.create(slot, f"rolling to revision {self.d.revision}",
                                              unplaced=unplaced):
                surge_room -= 1
            elif ready - len(old_ready) >= min_available:
                for c in old:
                    self.remove(c, f"updating to revision {self.d.revision}")
                ready -= len(old_ready)
            elif (self.removing and self._room_after_removes() > 0
                  and self.create_then(slot, f"rolling to revision {self.d.revision}")):
                # The room a replaced replica's removal frees: its successor's surge.
                continue
            else:
                if s.max_unavailable == 0:
                    for why in unplaced:
                        self.hold_up(why)
                break

    def result(self) -> Plan:
        return Plan(
            actions=tuple(self.actions),
            wake_at=self.wake_at,
            pending=tuple(self.pending),
            stable_slots=frozenset(self.stable),
            then=tuple(self.then) if self.actions else (),
        )


def plan(
    desired: Desired,
    observed: Sequence[ObservedContainer],
    hosts: Sequence[HostView],
    restarts: Mapping[int, SlotRestarts] | None = None,
    *,
    now: datetime,
    loads: Mapping[str, HostLoad] | None = None,
    backoff: BackoffPolicy | None = None,
) -> Plan:
    return _Planner(
        desired, observed, hosts, restarts or {}, now, loads or {}, backoff or BackoffPolicy()
    ).run()


@dataclass(frozen=True)
class Summary:
    replicas: int
    ready: int
    updated: int
    unavailable: int
    converged: bool
    crashing_slots: tuple[int, ...]
    message: str
    unhealthy_slots: tuple[int, ...] = ()  # running, failing their health check


def summarize(
    desired: Desired,
    observed: Iterable[ObservedContainer],
    hosts: Sequence[HostView],
    restarts: Mapping[int, SlotRestarts] | None = None,
    *,
    now: datetime,
) -> Summary:
    """Counts for status and rollout progress, from the same view the planner has."""
    restarts = restarts or {}
    state = {h.name: h.state for h in hosts}
    seen = [c for c in observed if state.get(c.host) in (HostState.READY, HostState.UNREACHABLE)]
    n = desired.replicas
    in_range = [c for c in seen if 0 <= c.slot < n]
    current = [c for c in in_range if c.template_hash == desired.template_hash]
    ready_current = [c for c in current if is_ready(c, desired.strategy.min_ready_s, now)]
    # Ready, and so available, only where it can be seen now: a replica on an unreachable
    # host holds its slot but serves no one Moorage can vouch for (the planner's
    # availability and the endpoints' upstreams leave it out too).
    ready = sum(1 for c in in_range if state.get(c.host) is HostState.READY
                and is_ready(c, desired.strategy.min_ready_s, now))
    ready = min(ready, n)
    crashing = sorted(
        ({c.slot for c in current if c.state in DEAD_STATES}
         | {s for s, r in restarts.items() if r.count >= 3 and s < n})
        - {c.slot for c in ready_current}
    )
    # Converged only where each slot's ready replica may stay: one on a host it may no
    # longer use (drained, its labels or allow list changed) must still move, even when
    # it cannot yet (the rollout waits for it, within its progress deadline).
    by_name = {h.name: h for h in hosts}
    constraints = [Constraint.parse(k) for k in desired.placement.constraints]
    slots_ready = {c.slot for c in ready_current if state.get(c.host) is HostState.READY
                   and not misplaced(c, by_name, constraints, desired.placement.binds)}
    converged = (
        not desired.deleting
        and len(seen) == n
        and len(ready_current) == n
        and slots_ready == set(range(n))
    )
    if desired.deleting:
        converged = not seen
    unhealthy = sorted({c.slot for c in current
                        if c.state == "running" and c.health == "unhealthy"} - set(crashing))
    message = ""
    if unhealthy:
        message = f"replica slot(s) {', '.join(map(str, unhealthy))} unhealthy"
    if crashing:
        c = next((c for c in current if c.slot == crashing[0] and c.state in DEAD_STATES), None)
        detail = f" (last exit code {c.exit_code})" if c and c.exit_code is not None else ""
        message = f"replica slot(s) {', '.join(map(str, crashing))} keep crashing{detail}"
    return Summary(
        replicas=n,
        ready=ready,
        updated=len({c.slot for c in current}),
        unavailable=max(0, n - ready),
        converged=converged,
        crashing_slots=tuple(crashing),
        message=message,
        unhealthy_slots=tuple(unhealthy),
    )
