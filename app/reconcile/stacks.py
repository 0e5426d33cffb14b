"""A stack's release, decided: which services to apply now, and how the release ends.

A stack revision's services roll out in ``depends_on`` order: a service is applied once
each of its dependencies meets its condition (``service_started``, ``service_healthy``,
``service_completed_successfully``). The release succeeds when every service's rollout
has; a service whose rollout fails ends it, rolling the whole stack back to the last
revision that succeeded (``failure_action: rollback``, the default) or leaving it where
it stopped (``pause``). The status aggregates the services.

Pure: the shell (app.services.stacks) reads a ``ServiceView`` per service from the
database, calls ``decide`` and carries the answer out (applying the services through the
deployment service, which the per-deployment reconciler then drives). Deciding again on
the same views gives the same answer, so a step may run any number of times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.reconcile.vocabulary import Phase, RolloutState

STARTED, HEALTHY, COMPLETED = "service_started", "service_healthy", "service_completed_successfully"


@dataclass(frozen=True)
class ServiceView:
    """A service of the revision being released, as the database shows it now."""

    name: str
    depends_on: tuple[tuple[str, str], ...] = ()  # (dependency, condition)
    failure_action: str = "rollback"
    # The stack's release has applied it (its deployment holds this revision's spec).
    applied: bool = False
    # The deployment rollout that apply started; None: the apply changed nothing (or
    # it has not been applied yet).
    rollout: RolloutState | None = None
    rollout_message: str = ""
    # The deployment as its reconciler last recorded it (None: no deployment yet).
    phase: Phase | None = None
    replicas: int = 0
    ready: int = 0
    # A container of its current revision has exited with status 0.
    completed: bool = False
    message: str = ""

    @property
    def failed(self) -> bool:
        # A one-shot that completed is done, even if its rollout then fails for want of a
        # running replica (it was never meant to keep one).
        if not self.applied or self.completed:
            return False
        if self.rollout is None:
            # Unchanged by this release, and failed since an earlier one: what depends on
            # it would wait for ever.
            return self.phase == Phase.FAILED
        return self.rollout in (RolloutState.FAILED, RolloutState.ROLLED_BACK)

    @property
    def converged(self) -> bool:
        """Its rollout to this revision succeeded (or it needed none and is available)."""
        if not self.applied:
            return False
        if self.rollout is not None:
            return self.rollout == RolloutState.SUCCEEDED
        return self.phase == Phase.AVAILABLE

    @property
    def done(self) -> bool:
        """Nothing more to wait for from it: converged, or a one-shot that completed."""
        return self.converged or (self.applied and self.completed)


def satisfied(dependency: ServiceView, condition: str) -> bool:
    """Whether ``dependency`` meets ``condition`` (Compose's three)."""
    if not dependency.applied or dependency.failed:
        return False
    if condition == HEALTHY:
        return dependency.converged
    if condition == COMPLETED:
        return dependency.completed
    return dependency.converged or dependency.completed or dependency.ready >= 1


def order(depends_on: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The services in waves: each wave depends only on earlier ones (names sorted in a
    wave). The mapping is acyclic (app.stacks.compose refuses a cycle)."""
    left = {n: set(d) & set(depends_on) for n, d in depends_on.items()}
    waves: list[list[str]] = []
    while left:
        wave = sorted(n for n, d in left.items() if not d)
        if not wave:  # a cycle: never from a checked file, but never loop for ever
            wave = sorted(left)
        waves.append(wave)
        for n in wave:
            del left[n]
        for d in left.values():
            d.difference_update(wave)
    return waves


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    phase: Phase | None
    replicas: int
    ready: int
    message: str = ""


@dataclass(frozen=True)
class Status:
    phase: Phase
    message: str
    services: tuple[ServiceStatus, ...] = ()


@dataclass(frozen=True)
class Decision:
    # Apply these services now (their dependencies are met), in this order.
    apply: tuple[str, ...] = ()
    # The release's end: None (it goes on), succeeded, failed or rolled_back.
    outcome: RolloutState | None = None
    roll_back_to: int | None = None  # with rolled_back: the revision to go back to
    message: str = ""
    status: Status = field(default_factory=lambda: Status(Phase.PENDING, ""))


def _waits(view: ServiceView, views: Mapping[str, ServiceView]) -> list[str]:
    return [f"{dep} ({condition})" for dep, condition in view.depends_on
            if dep in views and not satisfied(views[dep], condition)]


def status(views: Sequence[ServiceView], *, releasing: bool, failed: str | None = None,
           deleting: bool = False) -> Status:
    """The stack's phase and message from its services'. ``failed``: the message of a
    failure that stands (the last release failed and none has started since)."""
    services = tuple(ServiceStatus(v.name, v.phase, v.replicas, v.ready,
                                   v.rollout_message if v.failed else v.message)
                     for v in views)
    broken = [v for v in views if (v.phase == Phase.FAILED and not v.completed) or v.failed]
    if deleting:
        return Status(Phase.DELETING, "removing every service", services)
    if failed is not None:
        return Status(Phase.FAILED, failed, services)
    if broken and not releasing:
        v = broken[0]
        return Status(Phase.FAILED, f"{v.name}: {v.rollout_message or v.message}", services)
    if releasing:
        return Status(Phase.PROGRESSING, "", services)
    short = [v for v in views if v.phase != Phase.AVAILABLE and not v.completed]
    if not short:
        return Status(Phase.AVAILABLE, "", services)
    v = short[0]
    say = f"{v.name}: {v.ready}/{v.replicas} ready" + (f"; {v.message}" if v.message else "")
    return Status(Phase.DEGRADED, say, services)


def progress_mark(views: Sequence[ServiceView]) -> int:
    """How far a release has come: services applied plus services done. It only grows
    while the release moves; the shell keeps when it last grew."""
    return sum(v.applied for v in views) + sum(v.done for v in views)


def _stalled(views: Sequence[ServiceView], ready_now: Sequence[str], stalled_s: float | None,
             deadline_s: float | None) -> bool:
    """Nothing can move by itself: nothing to apply, no service rolling out (a rollout
    has its own deadline), and the rest waits on dependencies that did not change in this
    release and are not what they must be (e.g. degraded) for longer than the deadline."""
    if stalled_s is None or deadline_s is None or ready_now:
        return False
    rolling = any(v.applied and not v.done and v.rollout in (RolloutState.PENDING,
                                                               RolloutState.IN_PROGRESS)
                  for v in views)
    return not rolling and stalled_s > deadline_s


def decide(views: Sequence[ServiceView], *, rollback_target: int | None,
           stalled_s: float | None = None, deadline_s: float | None = None) -> Decision:
    """One step of a release over ``views`` (every service of the revision).
    ``rollback_target``: the revision the last successful release reached (None: there is
    none, e.g. the first), where a failure with ``failure_action: rollback`` goes back to.
    ``stalled_s``: how long since the release last moved (``progress_mark`` grew);
    ``deadline_s``: how long it may wait on services that cannot move by themselves."""
    by_name = {v.name: v for v in views}
    failed = sorted((v for v in views if v.failed), key=lambda v: v.name)
    if failed:
        v = failed[0]
        why = f"service {v.name} failed: {v.rollout_message or v.message or 'its rollout failed'}"
        return _ended(views, v, why, rollback_target)
    if all(v.done for v in views):
        return Decision(outcome=RolloutState.SUCCEEDED,
                        message=f"every service ({len(views)}) rolled out",
                        status=status(views, releasing=False))

    waves = order({v.name: [d for d, _ in v.depends_on] for v in views})
    ready_now = [n for wave in waves for n in wave
                 if not by_name[n].applied and not _waits(by_name[n], by_name)]
    waiting = []
    for wave in waves:
        for n in wave:
            v = by_name[n]
            if v.applied and not v.done and v.rollout is None:
                # Unchanged by this release, and not available (yet).
                waiting.append(f"{n} is {v.phase or 'not made'} ({v.ready}/{v.replicas} ready)")
            elif v.applied and not v.done:
                waiting.append(f"{n} rolling out" + (f" ({v.rollout_message})"
                                                      if v.rollout_message else ""))
            elif not v.applied and n not in ready_now:
                waiting.append(f"{n} waits for {', '.join(_waits(v, by_name))}")
    if _stalled(views, ready_now, stalled_s, deadline_s):
        stuck = next(v for wave in waves for n in wave
                     if not (v := by_name[n]).applied or not v.done)
        why = f"no progress for {deadline_s:g} s: {'; '.join(waiting)}"
        return _ended(views, stuck, why, rollback_target)
    return Decision(apply=tuple(ready_now), message="; ".join(waiting),
                    status=status(views, releasing=True))


def _ended(views: Sequence[ServiceView], v: ServiceView, why: str,
           rollback_target: int | None) -> Decision:
    """The release cannot succeed because of ``v``: as its failure_action says."""
    if v.failure_action == "rollback" and rollback_target is not None:
        message = f"{why}; rolling the stack back to revision {rollback_target}"
        return Decision(outcome=RolloutState.ROLLED_BACK, roll_back_to=rollback_target,
                        message=message, status=status(views, releasing=True))
    if v.failure_action == "rollback":
        why += "; no earlier revision of the stack succeeded, so nothing to roll back to"
    else:
        why += "; failure_action pause: the other services stay as they are"
    return Decision(outcome=RolloutState.FAILED, message=why,
                    status=status(views, releasing=False, failed=why))
