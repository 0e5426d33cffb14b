"""Record: load what a decision needs, ask the core (app.reconcile.decide), write its
answer. In fresh short transactions; nothing here decides.

The one check made here is whether the desired state moved while the pass looked (its
generation changed): then the pass's conclusions are about a state nobody wants any
more, so nothing is written and the loop plans again. Each write locks the deployment's
row first, as every API write does, so the check holds until it commits: otherwise a
DELETE committed just after it would have its rollout read, and ended, by a pass that
planned for the deployment as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.dockerhost import ContainerGone, EngineError
from app.errors import AppError
from app.models import Deployment, Replica, Rollout
from app.reconcile import decide as core
from app.reconcile import progress
from app.reconcile import template as tpl
from app.reconcile.planner import BackoffPolicy
from app.reconcile.types import HostView, Plan, Remove, SlotRestarts
from app.reconcile.vocabulary import Phase, RolloutKind, RolloutState, recorded_state
from app.repositories import deployments as deployment_repo
from app.repositories import events as event_repo
from app.repositories import replicas as replica_repo
from app.repositories import rollouts as rollout_repo
from app.services import deployments as deployment_service
from app.services import networks as network_service
from app.services.reconciler.context import Context, Observation, Outcome, restart_counts
from app.services.rollouts import transition

log = logging.getLogger(__name__)


# ---- reading what the core needs -------------------------------------------------------


def _rollout(session: Session, deployment: Deployment) -> Rollout | None:
    active = rollout_repo.active(session, deployment.id)
    return active[0] if active else None


def _active(rollout: Rollout | None) -> core.ActiveRollout | None:
    if rollout is None:
        return None
    ready, surplus, at = rollout.progress_ready, rollout.progress_surplus, rollout.last_progress_at
    mark = None if ready is None or surplus is None or at is None else progress.Mark(
        ready, surplus, at)
    # Its progress clock starts when it started (last_progress_at: a rollout from before
    # marks were stored keeps the clock it had).
    started = rollout.last_progress_at or rollout.started_at or rollout.created_at
    return core.ActiveRollout(RolloutKind(rollout.kind), RolloutState(rollout.state),
                              rollout.to_revision, mark, started, rollout.message or "")


def policy(ctx: Context, settings: Settings) -> core.Policy:
    check = ctx.health_check
    return core.Policy(
        progress_deadline_s=ctx.progress_deadline_s,
        auto_rollback=ctx.auto_rollback,
        drift_check_s=settings.drift_check_interval_s,
        resync_s=settings.resync_interval_s,
        health_interval_s=check.interval_s if check else None,
        health_retries=check.retries if check else 3,
    )


def group(ctx: Context, obs: Observation, settings: Settings, backoff: BackoffPolicy,
          deployment: Deployment, rollout: Rollout | None, now: datetime) -> core.Group:
    return core.Group(
        desired=ctx.desired,
        observed=tuple(obs.containers),
        hosts=tuple(obs.views),
        now=now,
        policy=policy(ctx, settings),
        backoff=backoff,
        restarts=ctx.restarts,
        loads=ctx.loads,
        health=obs.health,
        failed_now=obs.failed_now,
        next_probe_at=obs.next_probe_at,
        unreachable=obs.unreachable,
        rollout=_active(rollout),
        failed=deployment.message if deployment.phase == Phase.FAILED else None,
    )


def _candidate(session: Session, deployment: Deployment) -> core.Candidate | None:
    """The revision the last successful rollout reached, for an automatic rollback."""
    number = rollout_repo.last_succeeded_revision(session, deployment.id,
                                                  exclude=deployment.revision)
    if number is None:
        return None
    target = deployment_repo.revision(session, deployment.id, number)
    current = deployment_service.current_revision(session, deployment)
    try:
        wanted = deployment_service.Wanted.from_revision(target, deployment.replicas)
    except tpl.TemplateError as exc:
        return core.Candidate(number, same_spec=False, unreadable=str(exc))
    return core.Candidate(number, same_spec=deployment_service.same_spec(current, wanted),
                          binds=wanted.template.footprint.binds)


# ---- writing the answer ----------------------------------------------------------------


def _note(session: Session, deployment: Deployment, rollout: Rollout | None,
          note: core.Note) -> None:
    event_repo.record(session, deployment.id, note.reason, note.message, warning=note.warning,
                      dedupe=note.dedupe, rollout_id=rollout.id if rollout else None)


def _transitions(session: Session, rollout: Rollout | None,
                 steps: tuple[core.Transition, ...]) -> None:
    for step in steps:
        assert rollout is not None
        transition(session, rollout, step.state, step.message)


def _write_rollout(session: Session, rollout: Rollout | None,
                   change: core.RolloutChange | None) -> None:
    if rollout is None or change is None:
        return
    c = change.counts
    rollout.desired, rollout.updated = c.desired, c.updated
    rollout.ready, rollout.unavailable = c.ready, c.unavailable
    rollout.progress_ready, rollout.progress_surplus = change.mark.ready, change.mark.surplus
    rollout.last_progress_at = change.mark.at
    _transitions(session, rollout, change.transitions)
    if change.message is not None:
        # An active rollout says what holds it up; a finished one keeps its own message.
        rollout.message = change.message


def _write_status(deployment: Deployment, status: core.Status) -> None:
    # Not deployment.replicas: that is the desired count, apply's to write (this pass
    # planned for it; a scale since then changed the generation and stopped this write).
    c = status.counts
    deployment.ready_replicas, deployment.updated_replicas = c.ready, c.updated
    deployment.unavailable_replicas = c.unavailable
    deployment.observed_revision = deployment.revision
    deployment.phase, deployment.message = status.phase, status.message
    deployment.conditions = [
        {"type": k.type, "status": k.status, "reason": k.reason, "message": k.message}
        for k in status.conditions
    ]


@dataclass(frozen=True)
class Recorded:
    """What the loop does next: act on ``plan``; or, with nothing to act on, pass again in
    ``wait_s`` seconds (None: this job is done)."""

    plan: Plan
    wait_s: float | None = None


def record_pass(
    ctx: Context, obs: Observation, settings: Settings, backoff: BackoffPolicy
) -> Recorded:
    """Decide the pass and write its decision."""
    with session_scope() as session:
        deployment = deployment_repo.find(session, ctx.deployment_id, for_update=True)
        if deployment is None:
            return Recorded(Plan(()))
        if deployment.generation != ctx.generation:
            return Recorded(Plan(()), 0.0)  # the desired state moved: plan again
        rollout = _rollout(session, deployment)
        decision = core.decide(group(ctx, obs, settings, backoff, deployment, rollout, utcnow()))
        for note in decision.events:
            _note(session, deployment, rollout, note)
        _sync_replicas(session, deployment, ctx, obs)
        if decision.stable_slots:
            deployment.slot_restarts = {
                k: v for k, v in (deployment.slot_restarts or {}).items()
                if int(k) not in decision.stable_slots
            }
        _write_rollout(session, rollout, decision.rollout)
        if decision.failure is not None:
            # The rollout has ended: nothing of its plan is acted on.
            settled = settle_failure(session, deployment, rollout, decision.failure,
                                     settings, obs.views)
            return Recorded(Plan(()), 0.0 if settled.roll_back_to is not None else None)
        if decision.delete_group:
            session.delete(deployment)
            return Recorded(Plan(()))
        assert decision.status is not None
        _write_status(deployment, decision.status)
        # Networks hook: members of its networks on several hosts are told, in status.
        network_service.report_spread(
            session, deployment, ctx.template.container.networks,
            {c.host for c in obs.containers if c.state == "running"}, ctx.network_peers)
        if decision.converged:
            deployment.observed_generation = deployment.generation
        if decision.next_reconcile_at is not None:
            deployment.next_reconcile_at = (
                None if _settles(ctx, obs, deployment, decision) else decision.next_reconcile_at)
    if decision.wake_at is None:
        return Recorded(decision.plan)
    return Recorded(decision.plan, max(0.05, (decision.wake_at - utcnow()).total_seconds()))


def _settles(ctx: Context, obs: Observation, deployment: Deployment,
             decision: core.Decision) -> bool:
    """Whether a converged pass leaves the deployment to the drift check of settled
    deployments (app.services.drift; deployment_repo.settled) rather than to a pass of
    its own at ``next_reconcile_at``: only when the engines' listing can tell all that a
    pass would look at. Not with a health check to probe, nor crash back-offs still to
    forget (stable slots), nor a host it could not list, nor networks (its status tells
    where the other members run, which its own containers do not show)."""
    return (decision.converged and not ctx.health_check and not deployment.deleting
            and not deployment.slot_restarts and not obs.unreachable
            and not ctx.template.container.networks)


def settle_failure(
    session: Session, deployment: Deployment, rollout: Rollout | None, failure: core.Failure,
    settings: Settings, views: Sequence[HostView],
) -> core.Settled:
    """Ask the core how a failed rollout ends, and write that: the rollback it chose (as a
    new revision and rollout), or the failure with its reason."""
    candidate = _candidate(session, deployment) if failure.wants_rollback else None
    last = None
    if failure.wants_last_warning and rollout is not None:
        event = event_repo.last_warning(session, deployment.id,
                                        rollout.started_at or rollout.created_at)
        last = event.message if event else None
    settled = core.settle(failure, candidate, now=utcnow(), hosts=views,
                          global_allow=settings.bind_allow, last_warning=last)
    if settled.roll_back_to is not None:
        try:
            # In a savepoint: a rollback that cannot be written after all leaves no trace,
            # and the rollout fails with the truth instead.
            with session.begin_nested():
                _transitions(session, rollout, settled.transitions)
                session.flush()
                deployment_service.roll_back_to(session, deployment, settled.roll_back_to)
            return settled
        except AppError as exc:
            log.warning("automatic rollback of %s refused: %s", deployment.name, exc)
            if rollout is not None:
                session.refresh(rollout)
            refused = core.Candidate(settled.roll_back_to, same_spec=False,
                                     unreadable=exc.detail)
            settled = core.settle(failure, refused, now=utcnow(), hosts=views,
                                  global_allow=settings.bind_allow, last_warning=last)
    _transitions(session, rollout, settled.transitions)
    if settled.failed is not None:
        deployment.phase, deployment.message = Phase.FAILED, settled.failed
    if settled.retry_at is not None:
        deployment.next_reconcile_at = settled.retry_at
    return settled


def _sync_replicas(
    session: Session, deployment: Deployment, ctx: Context, obs: Observation
) -> None:
    blind = {v.name for v in obs.views if not v.reachable}
    seen: set[tuple[str, str]] = set()
    # Every record at once, so that each merge below finds its row loaded (one query, not
    # one per replica); held here, as the session's identity map holds them only weakly.
    _held = (replica_repo.for_deployment(session, deployment.id)
             if any((c.host, c.name) in ctx.known for c in obs.containers) else [])
    for c in obs.containers:
        if c.host in blind:
            continue
        key = (c.host, c.name)
        seen.add(key)
        record = ctx.known.get(key)
        if record is None:
            record = Replica(deployment_id=deployment.id, host_id=ctx.hosts[c.host].id,
                             container_name=c.name)
        else:
            record = session.merge(record, load=True)
        record.slot = c.slot
        record.revision = c.revision
        record.template_hash = c.template_hash
        record.container_id = c.container_id
        record.state = recorded_state(c.state)
        record.health = c.health
        record.ports = [
            {"container_port": cp, "host_ip": ip or None, "host_port": hp, "protocol": proto}
            for cp, ip, hp, proto in c.published
        ]
        record.started_at = c.started_at if c.state == "running" else record.started_at
        record.exit_code = c.exit_code
        record.restart_count = ctx.restarts.get(c.slot, SlotRestarts()).count
        probed = obs.health.get(key)
        if probed is not None and c.state == "running":
            record.health = probed.health
            record.probe_failures = probed.failures
            record.last_probe_at = probed.last_probe_at
            record.last_probe = probed.output or None
        elif not ctx.health_check:
            record.health = "none"
        session.add(record)
    for key, record in ctx.known.items():
        if key[0] not in blind and key not in seen:
            session.execute(
                Replica.__table__.delete().where(Replica.id == record.id)
            )


# ---- after acting, and before planning -------------------------------------------------


def _result(outcome: Outcome) -> core.ActionResult:
    e = outcome.error
    if e is None:
        return core.ActionResult(outcome.action)
    return core.ActionResult(outcome.action, str(e), temporary=e.temporary,
                             vanished=isinstance(e, ContainerGone))


def record_outcomes(
    ctx: Context, outcomes: list[Outcome], settings: Settings, backoff: BackoffPolicy
) -> float | None:
    """Write what the actions did. Seconds until the next pass, or None when done."""
    with session_scope() as session:
        deployment = deployment_repo.find(session, ctx.deployment_id, for_update=True)
        if deployment is None:
            return None
        rollout = _rollout(session, deployment)
        # Moorage's own removals drop their records here, so a record still there at the
        # next pass is of a container that went behind its back.
        held = frozenset(r.slot for r in ctx.known.values())
        replica_repo.forget(session, deployment.id, {
            o.action.container.container_id for o in outcomes
            if isinstance(o.action, Remove) and o.error is None})
        # The counts as stored now: a stable slot's were reset since the pass read them.
        after = core.after_actions(
            [_result(o) for o in outcomes], desired=ctx.desired,
            restarts=restart_counts(deployment.slot_restarts), held_slots=held,
            rollout=_active(rollout),
            policy=policy(ctx, settings), backoff=backoff, now=utcnow(),
            current=deployment.generation == ctx.generation)
        for note in after.events:
            _note(session, deployment, rollout, note)
        deployment.slot_restarts = {
            str(slot): {"count": r.count, "last_at": r.last_at.isoformat() if r.last_at else None}
            for slot, r in after.restarts.items()
        }
        if after.failure is not None:
            settled = settle_failure(session, deployment, rollout, after.failure, settings,
                                     ctx.views)
            return 0.0 if settled.roll_back_to is not None else None
    return after.retry_in_s


def record_failure(ctx: Context, exc: EngineError, settings: Settings) -> float | None:
    """A step before planning failed (resolving the image): retried, or the rollout
    fails now, as the core says. Seconds until the next pass, or None when done."""
    with session_scope() as session:
        deployment = deployment_repo.find(session, ctx.deployment_id, for_update=True)
        if deployment is None:
            return None
        event_repo.record(session, deployment.id, "EngineError", str(exc),
                          warning=True, dedupe=True)
        if deployment.generation != ctx.generation:
            return 0.0
        rollout = _rollout(session, deployment)
        failure = core.engine_failure(str(exc), exc.temporary, desired=ctx.desired,
                                      rollout=_active(rollout), policy=policy(ctx, settings),
                                      now=utcnow())
        if failure is None:
            return core.TEMPORARY_RETRY_S
        settled = settle_failure(session, deployment, rollout, failure, settings, ctx.views)
        return 0.0 if settled.roll_back_to is not None else None
