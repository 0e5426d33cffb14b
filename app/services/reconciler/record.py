"""Record: write what a pass saw and did to the database, in fresh short transactions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.dockerhost import ContainerGone, EngineError
from app.errors import AppError
from app.models import Deployment, Replica, Rollout
from app.reconcile import progress
from app.reconcile.planner import BackoffPolicy, Summary
from app.reconcile.types import Create, Plan, Remove, SlotRestarts, Start
from app.repositories import deployments as deployment_repo
from app.repositories import events as event_repo
from app.repositories import rollouts as rollout_repo
from app.services import deployments as deployment_service
from app.services import networks as network_service
from app.services.reconciler.context import Context, Observation, Outcome
from app.services.rollouts import transition

log = logging.getLogger(__name__)

FAILED_RETRY_S = 30.0

REPLICA_STATE = {
    "created": "creating",
    "running": "running",
    "paused": "running",
    "restarting": "starting",
    "exited": "exited",
    "dead": "exited",
    "removing": "removing",
}


@dataclass(frozen=True)
class Recorded:
    """``done``: True when nothing is left to do, None when the desired state moved under
    this pass (its plan is stale). ``deadline_at``: when the active rollout fails unless it
    progresses first (the loop looks again by then, whatever else it waits for)."""

    done: bool | None
    deadline_at: datetime | None = None


def _rollout(session: Session, deployment: Deployment) -> Rollout | None:
    active = rollout_repo.active(session, deployment.id)
    return active[0] if active else None


def _mark(rollout: Rollout) -> progress.Mark | None:
    """The progress mark stored on the rollout; None before its first pass."""
    ready, surplus, at = rollout.progress_ready, rollout.progress_surplus, rollout.last_progress_at
    if ready is None or surplus is None or at is None:
        return None
    return progress.Mark(ready, surplus, at)


def _started(rollout: Rollout) -> datetime:
    """Where its progress clock starts before a mark is set. (last_progress_at: a rollout
    from before marks were stored keeps the clock it had.)"""
    return rollout.last_progress_at or rollout.started_at or rollout.created_at


def record_observation(
    ctx: Context, obs: Observation, the_plan: Plan, summary: Summary, seen: progress.Level,
    settings: Settings,
) -> Recorded:
    """Write replicas, status and rollout progress."""
    with session_scope() as session:
        deployment = deployment_repo.find(session, ctx.deployment_id)
        if deployment is None:
            return Recorded(True)
        if deployment.generation != ctx.generation:
            # Desired state changed while we looked: conclusions drawn from the old
            # one (this rollout succeeded, that one is late) would be wrong. Re-plan.
            return Recorded(None)
        rollout = _rollout(session, deployment)
        now = utcnow()
        if rollout is not None and rollout.state == "pending":
            transition(session, rollout, "in_progress")
        for error in obs.unreachable.values():
            event_repo.record(session, deployment.id, "HostUnreachable", error,
                              warning=True, dedupe=True)
        _sync_replicas(session, deployment, ctx, obs)
        if the_plan.stable_slots:
            deployment.slot_restarts = {
                k: v for k, v in (deployment.slot_restarts or {}).items()
                if int(k) not in the_plan.stable_slots
            }
        done = the_plan.empty and summary.converged
        if deployment.deleting and done:
            if rollout is not None:
                transition(session, rollout, "succeeded", "every replica removed")
            session.delete(deployment)
            return Recorded(True)
        deadline_at = None
        if rollout is not None:
            mark = _progress(rollout, summary, seen, now)
            deadline_at = progress.deadline_at(mark, ctx.progress_deadline_s,
                                               started=_started(rollout))
            if done and rollout.to_revision == deployment.revision:
                transition(session, rollout, "succeeded",
                           f"{summary.ready}/{summary.replicas} replicas ready")
                rollout, deadline_at = None, None
            elif progress.past_deadline(mark, ctx.progress_deadline_s,
                                        started=_started(rollout), now=now):
                reason = _deadline_passed(ctx)
                if probe := _failing_probe(ctx, obs):
                    reason = f"{reason}: {probe}"
                elif last := event_repo.last_warning(
                        session, deployment.id, rollout.started_at or rollout.created_at):
                    reason = f"{reason}; last warning: {last.message}"
                _fail_rollout(session, deployment, rollout, reason, ctx)
                return Recorded(False)  # a rollback may have begun: the next pass plans it
        if rollout is not None:
            # An active rollout says what holds it up (e.g. no host allows a host path it
            # binds, or matches its constraints); a finished one keeps its own message.
            rollout.message = f"waiting: {'; '.join(the_plan.pending)}" if the_plan.pending else ""
        _write_status(deployment, rollout, summary, the_plan)
        # Networks hook: members of its networks on several hosts are told, in status.
        network_service.report_spread(
            session, deployment, ctx.template.container.networks,
            {c.host for c in obs.containers if c.state == "running"}, ctx.network_peers)
        if the_plan.pending:
            event_repo.record(session, deployment.id, "Unschedulable",
                              "; ".join(the_plan.pending), warning=True, dedupe=True)
        if done:
            deployment.observed_generation = deployment.generation
            # Converged: look again for drift later (engine events seen by the heartbeat
            # wake it sooner); health checks keep their own pace.
            wait = settings.drift_check_interval_s
            if ctx.health_check:
                wait = min(wait, ctx.health_check.interval_s)
            deployment.next_reconcile_at = now + timedelta(seconds=wait)
        return Recorded(done, deadline_at)


def _sync_replicas(
    session: Session, deployment: Deployment, ctx: Context, obs: Observation
) -> None:
    blind = {v.name for v in obs.views if not v.reachable}
    seen: set[tuple[str, str]] = set()
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
        record.state = REPLICA_STATE.get(c.state, "exited")
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


def _write_status(
    deployment: Deployment, rollout: Rollout | None, summary: Summary, the_plan: Plan
) -> None:
    # Not deployment.replicas: that is the desired count, apply's to write (this pass
    # planned for it; a scale since then changed the generation and stopped this write).
    deployment.ready_replicas = summary.ready
    deployment.updated_replicas = summary.updated
    deployment.unavailable_replicas = summary.unavailable
    deployment.observed_revision = deployment.revision
    failed = rollout is None and deployment.phase == "failed" and not summary.converged
    if deployment.deleting:
        phase, message = "deleting", "removing replicas"
    elif summary.converged and the_plan.empty:
        phase, message = "available", f"{summary.ready}/{summary.replicas} replicas ready"
    elif failed:
        phase, message = "failed", deployment.message
    elif summary.crashing_slots:
        phase, message = "degraded", summary.message
    elif rollout is not None:
        phase = "progressing"
        message = f"{summary.updated}/{summary.replicas} updated, {summary.ready} ready"
    else:
        phase = "degraded"
        message = f"{summary.ready}/{summary.replicas} replicas ready"
    if the_plan.pending:
        message = f"{message}; pending: {'; '.join(the_plan.pending)}"
    deployment.phase, deployment.message = phase, message
    deployment.conditions = [
        {"type": "Available", "status": summary.unavailable == 0 and not deployment.deleting,
         "reason": "MinimumReplicasAvailable" if summary.unavailable == 0 else "ReplicasUnavailable",
         "message": f"{summary.ready}/{summary.replicas} ready"},
        {"type": "Progressing", "status": rollout is not None,
         "reason": "RolloutInProgress" if rollout is not None else "Idle",
         "message": message},
    ]


def _progress(
    rollout: Rollout, summary: Summary, seen: progress.Level, now: datetime
) -> progress.Mark:
    """Store the counts shown to callers, and the mark the progress rule returns."""
    rollout.desired = summary.replicas
    rollout.updated = summary.updated
    rollout.ready = summary.ready
    rollout.unavailable = summary.unavailable
    mark = progress.advance(_mark(rollout), seen, now=now, started=_started(rollout))
    rollout.progress_ready, rollout.progress_surplus = mark.ready, mark.surplus
    rollout.last_progress_at = mark.at
    return mark


def _failing_probe(ctx: Context, obs: Observation) -> str:
    for c in obs.containers:
        state = obs.health.get((c.host, c.name))
        if (c.template_hash == ctx.desired.template_hash and state is not None
                and state.health != "healthy" and state.output):
            return f"replica {c.name} {state.health}: {state.output}"
    return ""


def _fail_rollout(
    session: Session,
    deployment: Deployment,
    rollout: Rollout | None,
    message: str,
    ctx: Context,
) -> None:
    """The rollout cannot succeed: roll back to the last good revision when asked to,
    through the same rolling machinery; otherwise fail and back off."""
    target = None
    if rollout is not None and rollout.state == "pending":
        transition(session, rollout, "in_progress")
    # A scale changed no template: rolling one back would not undo it, so it just fails.
    if rollout is not None and ctx.auto_rollback and rollout.kind not in (
            "rollback", "delete", "scale"):
        target = rollout_repo.last_succeeded_revision(session, deployment.id,
                                                      exclude=deployment.revision)
    if rollout is not None and target is not None:
        # Announced only once it has begun: in a savepoint, so a rollback that cannot
        # happen (e.g. the same spec as now, after a failed restart) leaves no trace
        # and the rollout fails with the truth instead.
        try:
            with session.begin_nested():
                transition(session, rollout, "rolled_back",
                           f"{message}; rolling back to revision {target}")
                session.flush()
                deployment_service.rollback(session, deployment.name, target)
            return
        except AppError as exc:
            log.warning("automatic rollback of %s refused: %s", deployment.name, exc)
            session.refresh(rollout)
            message = f"{message}; no automatic rollback: {exc.detail}"
    elif rollout is not None and rollout.kind == "scale" and ctx.auto_rollback:
        message = f"{message}; a scale is not rolled back"
    if rollout is not None:
        transition(session, rollout, "failed", message)
    deployment.phase, deployment.message = "failed", message
    deployment.next_reconcile_at = utcnow() + timedelta(seconds=FAILED_RETRY_S)


def record_outcomes(ctx: Context, outcomes: list[Outcome], backoff: BackoffPolicy) -> float | None:
    with session_scope() as session:
        deployment = deployment_repo.find(session, ctx.deployment_id)
        if deployment is None:
            return None
        rollout = _rollout(session, deployment)
        rollout_id = rollout.id if rollout else None
        restarts = dict(deployment.slot_restarts or {})
        permanent: list[str] = []
        temporary = False
        for o in outcomes:
            a = o.action
            if isinstance(o.error, ContainerGone):
                continue  # removed between observe and act: the next pass sees it gone
            if o.error is not None:
                event_repo.record(session, deployment.id, "ActionFailed", str(o.error),
                                  warning=True, rollout_id=rollout_id, dedupe=True)
                if o.error.temporary:
                    temporary = True
                else:
                    permanent.append(str(o.error))
                continue
            if isinstance(a, Create):
                # A slot whose running container vanished: removed by hand (drift).
                missing = a.reason == "missing replica" and any(
                    r.slot == a.slot and r.state == "running" for r in ctx.known.values()
                )
                if missing:
                    event_repo.record(
                        session, deployment.id, "ReplicaMissing",
                        f"replica slot {a.slot} disappeared outside Moorage; replaced it",
                        warning=True, rollout_id=rollout_id)
                event_repo.record(session, deployment.id, "ReplicaCreated",
                                  f"{a.name} on {a.host} ({a.reason})", rollout_id=rollout_id)
            elif isinstance(a, Start):
                event_repo.record(session, deployment.id, "ReplicaStarted",
                                  f"{a.container.name} on {a.container.host} ({a.reason})",
                                  rollout_id=rollout_id)
            elif isinstance(a, Remove):
                c = a.container
                if a.crashed:
                    prev = restarts.get(str(c.slot), {}).get("count", 0)
                    restarts[str(c.slot)] = {"count": prev + 1, "last_at": utcnow().isoformat()}
                    delay = backoff.delay(prev + 1).total_seconds()
                    event_repo.record(
                        session, deployment.id, "ReplicaRestarted",
                        f"{c.name} on {c.host} {a.reason}; restart {prev + 1}, "
                        f"next back-off {delay:.0f}s",
                        warning=True, rollout_id=rollout_id)
                else:
                    event_repo.record(session, deployment.id, "ReplicaRemoved",
                                      f"{c.name} on {c.host} ({a.reason})",
                                      rollout_id=rollout_id)
        deployment.slot_restarts = restarts
        if permanent and deployment.generation == ctx.generation:
            _fail_rollout(session, deployment, rollout, permanent[0], ctx)
            return 0.0 if deployment.phase != "failed" else None
    return 1.0 if temporary else 0.0


def _deadline_passed(ctx: Context) -> str:
    return f"no progress for {ctx.progress_deadline_s:g}s (progress deadline)"


def record_failure(ctx: Context, exc: EngineError) -> float | None:
    """A step before planning failed (resolving the image). A temporary failure is
    retried until the rollout's progress deadline; a permanent one ends it now."""
    with session_scope() as session:
        deployment = deployment_repo.find(session, ctx.deployment_id)
        if deployment is None:
            return None
        event_repo.record(session, deployment.id, "EngineError", str(exc),
                          warning=True, dedupe=True)
        if deployment.generation != ctx.generation:
            return 0.0
        rollout = _rollout(session, deployment)
        message = str(exc)
        if exc.temporary:
            if rollout is None or not progress.past_deadline(
                    _mark(rollout), ctx.progress_deadline_s, started=_started(rollout),
                    now=utcnow()):
                return 1.0
            message = f"{_deadline_passed(ctx)}: {exc}"
        _fail_rollout(session, deployment, rollout, message, ctx)
        return 0.0 if deployment.phase != "failed" else None
