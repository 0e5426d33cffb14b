"""One pass over one group, decided whole: everything the pass must do and write.

A group is what rolls out as one: a deployment today, a stack's service tomorrow (as
Nomad's reconciler computes per task group). The shell (app.services.reconciler) loads a
``Group`` (what it wants, what the engines showed, the active rollout, the clock), calls
``decide`` and writes the ``Decision`` back; it decides nothing. A decision carries:

- the actions (the planner's), and when to look again;
- the status: phase, counts, conditions, message;
- the rollout's counts, progress mark, message and transitions (start, succeed);
- the events to record;
- or a ``Failure``: the rollout cannot succeed (no progress by its deadline, a placement
  that can never be made, a permanent engine error).

A failure is then ``settle``d, also pure: rolled back to the last good revision (and
which), or failed with the truth when a rollback could not happen (the same spec as now
after a restart or a re-pin, a spec no host may run any more, a kind that has nothing to
roll back). The writer loads the rollback candidate only when a failure asks for one.

``after_actions`` is the same for what the actions did (events, restart counts, a
permanent error), and ``engine_failure`` for a step before planning that failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.reconcile import progress
from app.reconcile.health import HealthState
from app.reconcile.host_access import AllowEntry, Bind
from app.reconcile.planner import BackoffPolicy, Summary, plan, summarize
from app.reconcile.scheduler import Constraint, bind_refusals, refused_bind
from app.reconcile.types import (
    Action,
    Create,
    Desired,
    HostLoad,
    HostState,
    HostView,
    ObservedContainer,
    Plan,
    Remove,
    SlotRestarts,
    Start,
)
from app.reconcile.vocabulary import Phase, RolloutKind, RolloutState

# With nothing to do but a container on its way from one state to another (created,
# restarting, being removed), look again this soon.
POLL_S = 0.25
# A rollout failed for good: its deployment is looked at again this much later.
FAILED_RETRY_S = 30.0
# A failed action the engine may get right next time is retried this soon.
TEMPORARY_RETRY_S = 1.0

ContainerKey = tuple[str, str]  # (host, container name)


# ---- inputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveRollout:
    kind: RolloutKind
    state: RolloutState
    to_revision: int
    mark: progress.Mark | None  # its progress so far; None before its first pass
    started: datetime  # where its progress clock starts
    message: str = ""  # what held it up when last looked at


@dataclass(frozen=True)
class Policy:
    progress_deadline_s: float = 600.0
    auto_rollback: bool = True
    drift_check_s: float = 300.0  # a converged group is looked at again this often
    resync_s: float = 15.0  # a group waiting on an unreachable host, this often
    health_interval_s: float | None = None  # None: no health check
    health_retries: int = 3


@dataclass(frozen=True)
class Group:
    desired: Desired
    observed: tuple[ObservedContainer, ...]
    hosts: tuple[HostView, ...]
    now: datetime
    policy: Policy = field(default_factory=Policy)
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    restarts: Mapping[int, SlotRestarts] = field(default_factory=dict)
    loads: Mapping[str, HostLoad] = field(default_factory=dict)
    # This pass's health of the current template's containers, and those whose probe
    # failed now and counted (a fresh replica's quick probes do not all count).
    health: Mapping[ContainerKey, HealthState] = field(default_factory=dict)
    failed_now: frozenset[ContainerKey] = frozenset()
    next_probe_at: datetime | None = None
    unreachable: Mapping[str, str] = field(default_factory=dict)  # host -> why
    rollout: ActiveRollout | None = None
    # A failure that stands (phase failed, no rollout since): its message.
    failed: str | None = None


# ---- outputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """An event to record."""

    reason: str
    message: str
    warning: bool = False
    dedupe: bool = False  # dropped when it repeats the group's previous event exactly


@dataclass(frozen=True)
class Transition:
    state: RolloutState
    message: str | None = None


@dataclass(frozen=True)
class Counts:
    desired: int
    updated: int
    ready: int
    unavailable: int


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool
    reason: str
    message: str


@dataclass(frozen=True)
class Status:
    phase: Phase
    message: str
    counts: Counts
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class RolloutChange:
    counts: Counts
    mark: progress.Mark
    transitions: tuple[Transition, ...] = ()
    message: str | None = None  # what holds it up, while it stays active
    deadline_at: datetime | None = None


@dataclass(frozen=True)
class Failure:
    """The active rollout cannot succeed; ``settle`` says how it ends."""

    reason: str
    rollout: ActiveRollout | None
    revision: int  # the group's current revision (a rollback goes elsewhere)
    # Roll back if a candidate allows: the policy asks, and the kind changed a template.
    wants_rollback: bool
    # The reason is thin (a deadline with no failing probe to name): add the last warning.
    wants_last_warning: bool = False


@dataclass(frozen=True)
class Decision:
    plan: Plan
    summary: Summary
    status: Status | None = None  # None: the group is gone (deleted, every replica removed)
    rollout: RolloutChange | None = None
    events: tuple[Note, ...] = ()
    failure: Failure | None = None
    delete_group: bool = False
    converged: bool = False  # the desired state is reached: observed_generation moves
    stable_slots: frozenset[int] = frozenset()  # slots whose restart count resets
    next_reconcile_at: datetime | None = None  # when the resync looks again after this job
    # When to pass again within this job; None with an empty plan: the job is done.
    wake_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.plan.empty and self.wake_at is None


# ---- the pass --------------------------------------------------------------------------


def decide(g: Group) -> Decision:
    d, now = g.desired, g.now
    the_plan = plan(d, g.observed, g.hosts, g.restarts, now=now, loads=g.loads,
                    backoff=g.backoff)
    summary = summarize(d, g.observed, g.hosts, g.restarts, now=now)
    events = [Note("HostUnreachable", why, warning=True, dedupe=True)
              for why in g.unreachable.values()]
    events += _health_notes(g)
    if the_plan.pending:
        events.append(Note("Unschedulable", "; ".join(the_plan.pending), warning=True,
                           dedupe=True))
    done = the_plan.empty and summary.converged
    stable = the_plan.stable_slots

    rollout = g.rollout
    transitions: list[Transition] = []
    if rollout is not None and rollout.state is RolloutState.PENDING:
        transitions.append(Transition(RolloutState.IN_PROGRESS))

    if d.deleting and done:
        if rollout is not None:
            transitions.append(Transition(RolloutState.SUCCEEDED, "every replica removed"))
        change = None if rollout is None else RolloutChange(
            _counts(summary), _mark(rollout, g), tuple(transitions))
        return Decision(the_plan, summary, None, change, tuple(events), delete_group=True,
                        converged=True, stable_slots=stable)

    change: RolloutChange | None = None
    if rollout is not None:
        mark = _mark(rollout, g)
        deadline_at = progress.deadline_at(mark, g.policy.progress_deadline_s,
                                           started=rollout.started)
        if done and rollout.to_revision == d.revision:
            transitions.append(Transition(
                RolloutState.SUCCEEDED, f"{summary.ready}/{summary.replicas} replicas ready"))
            change = RolloutChange(_counts(summary), mark, tuple(transitions))
            rollout = None
        else:
            failure = _cannot_succeed(g, the_plan, mark, rollout)
            if failure is not None:
                # ``settle`` moves the rollout on from here, start included.
                change = RolloutChange(_counts(summary), mark)
                return Decision(Plan(()), summary, None, change, tuple(events),
                                failure=failure, stable_slots=stable)
            change = RolloutChange(_counts(summary), mark, tuple(transitions),
                                   message=_holdup(g, the_plan, rollout, mark),
                                   deadline_at=deadline_at)

    status = _status(g, summary, the_plan, active=rollout is not None)
    if done:
        # Converged: look again for drift later (engine events seen by the heartbeat wake
        # it sooner); health checks keep their own pace.
        wait = g.policy.drift_check_s
        if g.policy.health_interval_s is not None:
            wait = min(wait, g.policy.health_interval_s)
        return Decision(the_plan, summary, status, change, tuple(events), converged=True,
                        stable_slots=stable, next_reconcile_at=now + timedelta(seconds=wait))
    wake_at = next_at = None
    if the_plan.empty:
        wake_at = _wake_at(g, the_plan, change)
        if wake_at is None:
            # Nothing to wait for (a replica that exited for good, one no host can take,
            # a paused one): the job ends, and the resync looks again at its own pace (or
            # when the rollout's deadline is due, so it fails then).
            next_at = now + timedelta(seconds=g.policy.resync_s)
            if change is not None and change.deadline_at is not None:
                next_at = min(next_at, change.deadline_at)
    return Decision(the_plan, summary, status, change, tuple(events), stable_slots=stable,
                    next_reconcile_at=next_at, wake_at=wake_at)


def _mark(rollout: ActiveRollout, g: Group) -> progress.Mark:
    seen = progress.level(g.desired, g.observed, g.hosts, now=g.now)
    return progress.advance(rollout.mark, seen, now=g.now, started=rollout.started)


def _counts(summary: Summary) -> Counts:
    return Counts(summary.replicas, summary.updated, summary.ready, summary.unavailable)


def _wake_at(g: Group, the_plan: Plan, change: RolloutChange | None) -> datetime | None:
    """When something the pass waits for is due, or None: nothing is expected to change
    by itself soon."""
    wake = [t for t in (the_plan.wake_at, g.next_probe_at, _settling(g)) if t is not None]
    if any(h.state is HostState.UNREACHABLE for h in g.hosts):
        # Replicas wait on a host that may come back or be declared lost.
        wake.append(g.now + timedelta(seconds=g.policy.resync_s))
    if not wake:
        return None
    if change is not None and change.deadline_at is not None:
        # Waiting out a back-off must not carry a rollout past its deadline: look again
        # when it is due, so it fails then, not a back-off later.
        wake.append(change.deadline_at)
    return min(wake)


def _settling(g: Group) -> datetime | None:
    """When a container on a reachable host is next expected to change by itself: soon,
    for one between states; when one running short of ``min_ready_s`` gets ready."""
    reachable = {h.name for h in g.hosts if h.state is HostState.READY}
    min_ready = timedelta(seconds=g.desired.strategy.min_ready_s)
    due: list[datetime] = []
    for c in g.observed:
        if c.host not in reachable:
            continue
        if c.state in ("created", "restarting", "removing"):
            due.append(g.now + timedelta(seconds=POLL_S))
        elif (c.state == "running" and c.health in ("none", "healthy")
              and c.started_at is not None and g.now < c.started_at + min_ready):
            due.append(c.started_at + min_ready)
    return min(due, default=None)


# ---- health ----------------------------------------------------------------------------


def _current(g: Group) -> list[ObservedContainer]:
    return [c for c in g.observed if c.template_hash == g.desired.template_hash
            and c.state == "running" and (c.host, c.name) in g.health]


_FAILS_ITS_PROBE = " fails its health check: "


def failing_probe(g: Group) -> str:
    """Which replica of the target fails which probe, with the probe's output."""
    for c in _current(g):
        state = g.health[(c.host, c.name)]
        if state.health != "healthy" and state.failures and state.output:
            return f"replica {c.name}{_FAILS_ITS_PROBE}{state.output}"
    return ""


def _health_notes(g: Group) -> list[Note]:
    """One event when a replica's probe first fails, one when it turns unhealthy (after
    ``retries`` failures in a row): never one per attempt."""
    notes = []
    retries = g.policy.health_retries
    for c in _current(g):
        key = (c.host, c.name)
        state = g.health[key]
        if key not in g.failed_now:
            continue
        if state.failures == 1 and retries > 1:
            notes.append(Note("HealthCheckFailed",
                              f"replica {c.name} on {c.host} failed a health check "
                              f"(1 of {retries} allowed): {state.output}", warning=True))
        elif state.failures == retries:
            notes.append(Note("ReplicaUnhealthy",
                              f"replica {c.name} on {c.host} failed {retries} health checks "
                              f"in a row: {state.output}", warning=True))
    return notes


# ---- why a rollout cannot succeed ------------------------------------------------------


def deadline_passed(deadline_s: float) -> str:
    return f"no progress for {deadline_s:g}s (progress deadline)"


def _cannot_succeed(
    g: Group, the_plan: Plan, mark: progress.Mark, rollout: ActiveRollout
) -> Failure | None:
    if why := unplaceable(g):
        return Failure(why, rollout, g.desired.revision, _rollback_wanted(g.policy, rollout))
    if progress.past_deadline(mark, g.policy.progress_deadline_s, started=rollout.started,
                              now=g.now):
        reason = deadline_passed(g.policy.progress_deadline_s)
        # The probe failing now, or the one that failed when last looked at (a replica
        # replaced for failing it may be gone by now).
        if probe := failing_probe(g) or rollout.message:
            return Failure(f"{reason}: {probe}", rollout, g.desired.revision,
                           _rollback_wanted(g.policy, rollout))
        return Failure(reason, rollout, g.desired.revision, _rollback_wanted(g.policy, rollout),
                       wants_last_warning=True)
    return None


def unplaceable(g: Group) -> str:
    """Why the group's replicas can never all run as its strategy allows, or "".

    Fixed host ports hold one replica per host: more replicas than hosts that can take
    them can never all run, and a rolling update that may not lose a replica
    (max_unavailable 0) needs a host with the port free for its surge replica. (Where
    max_unavailable ≥ 1 the planner replaces in place instead, stop first, as Swarm does.)
    That surge can never be placed when every usable host is held by a slot of its own:
    one with a replica of the current template there, or a serving old replica that
    publishes the same port. An old replica that does not (the port changed, or is new
    in this revision) leaves its host free for a surge, and the planner rolls the
    holders first, so it gets there. Only slots whose old replica serves (running, not
    failing its check) need a surge: the others are replaced in place. Said only when
    it holds for good: a "never" here fails the rollout at once and rolls it back.
    Hosts that are unreachable count: they may come back. Capacity that other groups may
    free later is not judged here; that waits, with its reason in the rollout's message.
    """
    d = g.desired
    ports = d.placement.host_ports
    if d.deleting or not ports or d.replicas == 0:
        return ""
    wanted = frozenset(ports)
    constraints = [Constraint.parse(c) for c in d.placement.constraints]
    taken = {name for name, load in g.loads.items() if load.host_ports & wanted}
    usable = [
        h for h in g.hosts
        if h.state in (HostState.READY, HostState.UNREACHABLE) and h.schedulable
        and h.name not in taken and refused_bind(h, d.placement.binds) is None
        and all(k.matches(dict(h.labels)) for k in constraints)
    ]
    shown = ", ".join(f"{port}/{proto}" for port, proto in ports)
    if d.replicas > len(usable):
        return (f"{d.replicas} replicas publish fixed host port {shown}, one per host, but "
                f"only {len(usable)} host(s) can take one")
    s = d.strategy
    if s.max_unavailable > 0 or s.max_surge == 0:
        return ""
    on_usable = {h.name for h in usable}
    in_range = [c for c in g.observed if 0 <= c.slot < d.replicas]
    placed = {c.slot for c in in_range
              if c.template_hash == d.template_hash and c.host in on_usable}
    # The old replicas the planner replaces surge first: serving, in a slot with no
    # replica of the current template on a host it may use. (It replaces the others in
    # place; one beside a replica of the current template just goes.)
    to_roll = [c for c in in_range if c.template_hash != d.template_hash
               and c.slot not in placed and c.state == "running"
               and c.health in ("none", "healthy")]
    # Slots that hold the port on a host, one host each: those with a replica of the
    # current template there, and those whose serving old replica publishes it.
    holding = placed | {c.slot for c in to_roll
                        if c.host in on_usable and wanted & frozenset(c.host_ports)}
    if to_roll and len(holding) >= len(usable):
        return (f"a rolling update of fixed host port {shown} needs a host with the port "
                f"free for its surge replica, and all {len(usable)} hold one; set "
                f"max_unavailable ≥ 1 to replace in place, or add a host")
    return ""


def _holdup(g: Group, the_plan: Plan, rollout: ActiveRollout, mark: progress.Mark) -> str:
    """An active rollout's message: what holds it up now, or "". A failed probe stays
    named once its replica was replaced for failing it, while the replacement has not
    failed yet and the rollout made no progress: that failure is still what holds the
    rollout, and what its deadline says."""
    if the_plan.pending:
        return f"waiting: {'; '.join(the_plan.pending)}"
    if probe := failing_probe(g):
        return probe
    kept = rollout.message or ""
    before = rollout.mark
    if _FAILS_ITS_PROBE in kept and before is not None \
            and (mark.ready, mark.surplus) == (before.ready, before.surplus):
        return kept
    return ""


# ---- status ----------------------------------------------------------------------------


def _status(g: Group, summary: Summary, the_plan: Plan, active: bool) -> Status:
    n = summary.replicas
    if g.desired.deleting:
        phase, message = Phase.DELETING, "removing replicas"
    elif summary.converged and the_plan.empty:
        phase, message = Phase.AVAILABLE, f"{summary.ready}/{n} replicas ready"
    elif g.failed is not None and not active:
        phase, message = Phase.FAILED, g.failed
    elif summary.crashing_slots or summary.unhealthy_slots:
        phase, message = Phase.DEGRADED, summary.message
    elif active:
        phase = Phase.PROGRESSING
        message = f"{summary.updated}/{n} updated, {summary.ready} ready"
    else:
        phase, message = Phase.DEGRADED, f"{summary.ready}/{n} replicas ready"
    if the_plan.pending:
        message = f"{message}; pending: {'; '.join(the_plan.pending)}"
    conditions = (
        Condition("Available", summary.unavailable == 0 and not g.desired.deleting,
                  "MinimumReplicasAvailable" if summary.unavailable == 0
                  else "ReplicasUnavailable", f"{summary.ready}/{n} ready"),
        Condition("Progressing", active, "RolloutInProgress" if active else "Idle", message),
    )
    return Status(phase, message, _counts(summary), conditions)


# ---- settling a failure ----------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """The revision the last successful rollout reached, as the writer found it."""

    revision: int
    same_spec: bool  # as the current one (after a restart, or a re-pin of the same tag)
    binds: tuple[Bind, ...] = ()
    unreadable: str = ""  # its stored template cannot be read: why


@dataclass(frozen=True)
class Settled:
    transitions: tuple[Transition, ...]
    roll_back_to: int | None  # the writer makes this revision's template current again
    failed: str | None  # the group's phase becomes failed with this message
    retry_at: datetime | None  # when the resync looks at a failed group again


def settle(
    failure: Failure,
    candidate: Candidate | None,
    *,
    now: datetime,
    hosts: Sequence[HostView] = (),
    global_allow: Sequence[AllowEntry] = (),
    last_warning: str | None = None,
) -> Settled:
    """How a failed rollout ends. Announced as rolled back only when the rollback can
    happen; otherwise it fails, saying why nothing rolled back."""
    rollout = failure.rollout
    message = failure.reason
    if failure.wants_last_warning and last_warning:
        message = f"{message}; last warning: {last_warning}"
    steps: list[Transition] = []
    if rollout is not None and rollout.state is RolloutState.PENDING:
        steps.append(Transition(RolloutState.IN_PROGRESS))
    if failure.wants_rollback:
        refusal = _no_rollback(failure, candidate, hosts, global_allow)
        if not refusal and candidate is not None:
            steps.append(Transition(
                RolloutState.ROLLED_BACK,
                f"{message}; rolling back to revision {candidate.revision}"))
            return Settled(tuple(steps), candidate.revision, None, None)
        message = f"{message}; no automatic rollback: {refusal}"
    elif (rollout is not None and rollout.kind is RolloutKind.SCALE):
        message = f"{message}; a scale is not rolled back"
    if rollout is not None:
        steps.append(Transition(RolloutState.FAILED, message))
    return Settled(tuple(steps), None, message, now + timedelta(seconds=FAILED_RETRY_S))


def _no_rollback(
    failure: Failure,
    candidate: Candidate | None,
    hosts: Sequence[HostView],
    global_allow: Sequence[AllowEntry],
) -> str:
    """Why the automatic rollback cannot happen, or "" when it can."""
    if candidate is None:
        return "no earlier revision ever rolled out successfully"
    if candidate.revision == failure.revision:
        return f"revision {candidate.revision} is already the current one"
    if candidate.unreadable:
        return f"revision {candidate.revision} cannot be read: {candidate.unreadable}"
    if candidate.same_spec:
        return (f"revision {candidate.revision} has the same spec as the current revision "
                f"{failure.revision}")
    if refusals := bind_refusals(candidate.binds, global_allow, hosts):
        return f"revision {candidate.revision}'s spec is no longer valid: {refusals[0][1]}"
    return ""


# ---- after the actions -----------------------------------------------------------------


@dataclass(frozen=True)
class ActionResult:
    action: Action
    error: str = ""  # "" when it worked
    temporary: bool = False  # the error may not happen again
    vanished: bool = False  # the container was gone by the time the action ran


@dataclass(frozen=True)
class AfterActions:
    events: tuple[Note, ...]
    restarts: Mapping[int, SlotRestarts]
    failure: Failure | None
    retry_in_s: float  # when to pass again, a failure aside


def after_actions(
    results: Sequence[ActionResult],
    *,
    desired: Desired,
    restarts: Mapping[int, SlotRestarts],
    held_slots: frozenset[int],
    rollout: ActiveRollout | None,
    policy: Policy,
    backoff: BackoffPolicy,
    now: datetime,
    current: bool,
) -> AfterActions:
    """What the actions' results mean. ``held_slots``: slots whose record still held a
    container before this pass, one Moorage did not remove (its own removals drop their
    records), so a create for one of them replaces a container removed behind Moorage's
    back, whatever state it was last seen in (a ``docker rm -f`` is often caught
    mid-removal). ``current``: the desired state is still the one planned against (a permanent
    error fails the rollout only then)."""
    events: list[Note] = []
    counts = dict(restarts)
    permanent: list[str] = []
    temporary = False
    for r in results:
        a = r.action
        if r.vanished:
            continue  # removed between observe and act: the next pass sees it gone
        if r.error:
            events.append(Note("ActionFailed", r.error, warning=True, dedupe=True))
            if r.temporary:
                temporary = True
            else:
                permanent.append(r.error)
            continue
        if isinstance(a, Create):
            if a.reason == "missing replica" and a.slot in held_slots:
                events.append(Note(
                    "ReplicaMissing",
                    f"replica slot {a.slot} disappeared outside Moorage; replaced it",
                    warning=True))
            events.append(Note("ReplicaCreated", f"{a.name} on {a.host} ({a.reason})"))
        elif isinstance(a, Start):
            events.append(Note("ReplicaStarted",
                               f"{a.container.name} on {a.container.host} ({a.reason})"))
        elif isinstance(a, Remove):
            c = a.container
            if a.crashed:
                count = counts.get(c.slot, SlotRestarts()).count + 1
                counts[c.slot] = SlotRestarts(count, now)
                delay = backoff.delay(count).total_seconds()
                events.append(Note(
                    "ReplicaRestarted",
                    f"{c.name} on {c.host} {a.reason}; restart {count}, "
                    f"next back-off {delay:.0f}s", warning=True))
            else:
                events.append(Note("ReplicaRemoved", f"{c.name} on {c.host} ({a.reason})"))
    failure = None
    if permanent and current:
        failure = Failure(permanent[0], rollout, desired.revision,
                          wants_rollback=_rollback_wanted(policy, rollout))
    return AfterActions(tuple(events), counts, failure,
                        TEMPORARY_RETRY_S if temporary else 0.0)


def engine_failure(
    error: str,
    temporary: bool,
    *,
    desired: Desired,
    rollout: ActiveRollout | None,
    policy: Policy,
    now: datetime,
) -> Failure | None:
    """A step before planning failed (resolving the image). A temporary failure is
    retried until the rollout's progress deadline (None: retry); a permanent one ends
    it now."""
    if temporary:
        if rollout is None or not progress.past_deadline(
                rollout.mark, policy.progress_deadline_s, started=rollout.started, now=now):
            return None
        error = f"{deadline_passed(policy.progress_deadline_s)}: {error}"
    return Failure(error, rollout, desired.revision,
                   wants_rollback=_rollback_wanted(policy, rollout))


def _rollback_wanted(policy: Policy, rollout: ActiveRollout | None) -> bool:
    # A scale or a delete changed no template: rolling one back would not undo it.
    return (rollout is not None and policy.auto_rollback and rollout.kind not in (
        RolloutKind.ROLLBACK, RolloutKind.DELETE, RolloutKind.SCALE))

