"""Reconcile one deployment: observe, plan, act, record — until converged or waiting.

Runs in a worker under the deployment's lease. No transaction is held across a Docker
call: each pass loads what it needs, talks to the engines, then records the outcome in
a fresh short transaction. Every step is safe to repeat after a crash at any point.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from app import jobs
from app.config import Settings, get_settings
from app.db import session_scope, utcnow
from app.dockerhost import (
    ContainerRequest,
    EngineError,
    ImageMissing,
    TemporaryEngineError,
    client_for,
)
from app.dockerhost.engine import (
    L_DEPLOYMENT,
    L_DEPLOYMENT_ID,
    L_INSTALLATION,
    L_MANAGED,
    L_REVISION,
    L_SLOT,
    L_TEMPLATE,
)
from app.dockerhost.probes import probe
from app.errors import AppError
from app.logs import register_secret_values
from app.models import Deployment, Host, Replica, Revision, Rollout
from app.reconcile import health as health_rules
from app.reconcile.health import HealthCheckSpec, HealthState
from app.reconcile.planner import BackoffPolicy, Summary, plan, summarize
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
from app.repositories import deployments as deployment_repo
from app.repositories import events as event_repo
from app.repositories import hosts as host_repo
from app.repositories import replicas as replica_repo
from app.repositories import rollouts as rollout_repo
from app.services import deployments as deployment_service
from app.services import fleet, images, registries, specs
from app.services.rollouts import transition

log = logging.getLogger(__name__)

# Waits shorter than this are slept through inside the task; longer ones go to the resync.
INLINE_WAIT_S = 2.0
POLL_S = 0.25
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


@lru_cache
def docker_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(get_settings().docker_pool_size, thread_name_prefix="docker")


@dataclass
class Context:
    """What one pass knows, detached from any session."""

    deployment_id: uuid.UUID
    name: str
    generation: int  # of the desired state this pass planned against
    desired: Desired
    revision: Revision
    hosts: dict[str, Host]
    views: list[HostView]
    restarts: dict[int, SlotRestarts]
    known: dict[tuple[str, str], Replica]  # (host, container name) -> last record
    loads: dict[str, HostLoad] = field(default_factory=dict)  # other deployments, per host
    health_check: dict | None = None
    progress_deadline_s: float = 600.0
    auto_rollback: bool = True
    image_source: images.ImageSource | None = None


@dataclass
class Observation:
    containers: list[ObservedContainer]
    views: list[HostView]
    unreachable: dict[str, str] = field(default_factory=dict)  # host -> error
    health: dict[tuple[str, str], HealthState] = field(default_factory=dict)
    next_probe_at: datetime | None = None


@dataclass
class Outcome:
    action: Action
    error: EngineError | None = None
    container_id: str | None = None


def _restarts(raw: dict) -> dict[int, SlotRestarts]:
    out = {}
    for slot, value in (raw or {}).items():
        last = value.get("last_at")
        out[int(slot)] = SlotRestarts(
            int(value.get("count", 0)), datetime.fromisoformat(last) if last else None
        )
    return out


class LeaseKeeper(threading.Thread):
    """Renews the lease while a pass talks to the engines, however long that takes.

    If renewal fails (the lease expired and another worker took it), ``lost`` is set and
    the reconciler stops after its current pass."""

    def __init__(self, reconciler: Reconciler, deployment_id: uuid.UUID) -> None:
        super().__init__(daemon=True, name=f"lease-{deployment_id}")
        self.reconciler = reconciler
        self.deployment_id = deployment_id
        self.lost = threading.Event()
        self._stop_event = threading.Event()

    def run(self) -> None:
        period = self.reconciler.settings.reconcile_lease_s / 3
        while not self._stop_event.wait(period):
            try:
                if not self.reconciler._lease(self.deployment_id):
                    self.lost.set()
                    return
            except Exception:  # the database blinked; the next renewal may succeed
                log.warning("could not renew the lease on %s", self.deployment_id, exc_info=True)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


class Reconciler:
    def __init__(self, owner: str, settings: Settings | None = None) -> None:
        self.owner = owner
        self.seen_generation: int | None = None
        self.settings = settings or get_settings()
        self.backoff = BackoffPolicy(
            self.settings.backoff_base_s, self.settings.backoff_max_s,
            self.settings.stable_after_s,
        )

    # -- the loop --------------------------------------------------------------------

    def run(self, deployment_id: uuid.UUID) -> None:
        if not self._lease(deployment_id):
            log.debug("deployment %s is being reconciled elsewhere", deployment_id)
            return
        keeper = LeaseKeeper(self, deployment_id)
        keeper.start()
        try:
            deadline = time.monotonic() + self.settings.reconcile_budget_s
            while not keeper.lost.is_set():
                wait = self._pass(deployment_id)
                if wait is None:
                    return
                if wait > INLINE_WAIT_S or time.monotonic() + wait > deadline:
                    self._defer(deployment_id, wait)
                    return
                time.sleep(wait)
        finally:
            keeper.stop()
            with session_scope() as session:
                deployment_repo.release_lease(session, deployment_id, self.owner)
                deployment = deployment_repo.find(session, deployment_id)
                moved = deployment is not None and deployment.generation != self.seen_generation
            if moved:
                # A change landed while we held the lease (its own job saw the lease
                # taken and left): look again now rather than at the next resync.
                jobs.send_reconcile(deployment_id)

    def _lease(self, deployment_id: uuid.UUID) -> bool:
        now = utcnow()
        until = now + timedelta(seconds=self.settings.reconcile_lease_s)
        with session_scope() as session:
            return deployment_repo.try_acquire_lease(session, deployment_id, self.owner, now, until)

    def _defer(self, deployment_id: uuid.UUID, wait: float) -> None:
        with session_scope() as session:
            deployment = deployment_repo.find(session, deployment_id)
            if deployment is not None:
                deployment.next_reconcile_at = utcnow() + timedelta(seconds=wait)

    def _pass(self, deployment_id: uuid.UUID) -> float | None:
        """One observe-plan-act-record round. Returns seconds to wait, or None when done."""
        ctx = self._load(deployment_id)
        if ctx is None:
            return None
        obs = self._observe(ctx)
        if not ctx.desired.deleting and ctx.desired.replicas > 0 and not ctx.revision.image_digest:
            try:
                self._pin_image(ctx, obs)
            except EngineError as exc:
                return self._record_failure(ctx, obs, exc)
        self._probe(ctx, obs)
        now = utcnow()
        the_plan = plan(
            ctx.desired, obs.containers, obs.views, ctx.restarts, now=now, loads=ctx.loads,
            backoff=self.backoff,
        )
        summary = summarize(ctx.desired, obs.containers, obs.views, ctx.restarts, now=now)
        recorded = self._record_observation(ctx, obs, the_plan, summary)
        if recorded is None:
            return 0.0  # stale: plan again against the new desired state
        if recorded:
            return None  # converged, deleted, or failed for good
        if the_plan.empty:
            wake = [t for t in (the_plan.wake_at, obs.next_probe_at) if t is not None]
            if any(v.state is HostState.UNREACHABLE for v in obs.views):
                # Replicas wait on a host that may come back or be declared lost.
                wake.append(utcnow() + timedelta(seconds=self.settings.resync_interval_s))
            if wake:
                return max(0.05, (min(wake) - utcnow()).total_seconds())
            return POLL_S
        outcomes = self._execute(ctx, the_plan)
        return self._record_outcomes(ctx, outcomes)

    # -- load, observe ---------------------------------------------------------------

    def _load(self, deployment_id: uuid.UUID) -> Context | None:
        with session_scope() as session:
            deployment = deployment_repo.find(session, deployment_id)
            if deployment is None:
                return None
            revision = deployment_repo.revision(session, deployment.id, deployment.revision)
            hosts = host_repo.all_hosts(session)
            by_id = {h.id: h for h in hosts}
            known = {
                (by_id[r.host_id].name, r.container_name): r
                for r in replica_repo.for_deployment(session, deployment.id)
                if r.host_id in by_id
            }
            self.seen_generation = deployment.generation
            desired = specs.to_desired(
                deployment.name, revision.number, revision.spec, revision.template_hash,
                deleting=deployment.deleting, settle_s=self.settings.ready_settle_s,
            )
            register_secret_values(revision.secrets.values())
            # Inside the block: after it, the session would begin a new transaction that
            # nothing ends (on SQLite a write lock held until the process exits).
            loads = self._loads(session, deployment.id, by_id)
            image_source = images.ImageSource(
                deployment.id, revision.spec["image"], registries.for_revision(session, revision),
                self.settings.pull_progress_interval_s,
            )
            session.expunge_all()
        return Context(
            deployment_id=deployment_id,
            name=deployment.name,
            generation=deployment.generation,
            desired=desired,
            revision=revision,
            hosts={h.name: h for h in hosts},
            views=fleet.views(hosts),
            loads=loads,
            restarts=_restarts(deployment.slot_restarts),
            known=known,
            health_check=revision.spec.get("health_check"),
            progress_deadline_s=revision.spec["update_strategy"]["progress_deadline_s"],
            auto_rollback=revision.spec["update_strategy"]["auto_rollback"],
            image_source=image_source,
        )

    def _client(self, host: Host):
        return client_for(fleet.address(host), self.settings.docker_timeout_s)

    @staticmethod
    def _loads(
        session: Session, deployment_id: uuid.UUID, hosts: dict[uuid.UUID, Host]
    ) -> dict[str, HostLoad]:
        """What other deployments hold on each host: capacity is shared."""
        loads: dict[str, HostLoad] = {}
        for host_id, spec, count in replica_repo.footprints(session, exclude=deployment_id):
            host = hosts.get(host_id)
            if host is None:
                continue
            resources = spec.get("resources") or {}
            ports = {(p["host_port"], p["protocol"]) for p in spec.get("ports", [])
                     if p.get("host_port")}
            was = loads.get(host.name, HostLoad())
            loads[host.name] = HostLoad(
                containers=was.containers + count,
                cpus=was.cpus + (resources.get("cpus") or 0) * count,
                memory_bytes=was.memory_bytes + (resources.get("memory_mb") or 0) * 2**20 * count,
                host_ports=was.host_ports | frozenset(ports),
            )
        return loads

    def _observe(self, ctx: Context) -> Observation:
        reachable = [v for v in ctx.views if v.reachable]
        futures = {
            v.name: docker_pool().submit(
                self._client(ctx.hosts[v.name]).list_owned, str(ctx.deployment_id)
            )
            for v in reachable
        }
        containers: list[ObservedContainer] = []
        unreachable: dict[str, str] = {}
        for name, future in futures.items():
            try:
                containers += future.result()
            except EngineError as exc:
                unreachable[name] = str(exc)
        views = [
            HostView(v.name, HostState.UNREACHABLE, v.schedulable, v.labels, v.cpus,
                     v.memory_bytes)
            if v.name in unreachable else v
            for v in ctx.views
        ]
        # What we last knew of hosts we cannot see now holds their slots.
        blind = {v.name for v in views if not v.reachable}
        containers += [
            fleet.observed_from_record(r, host, "running" if r.state == "running" else "exited")
            for (host, _), r in ctx.known.items() if host in blind
        ]
        return Observation(containers, views, unreachable)

    def _probe(self, ctx: Context, obs: Observation) -> None:
        """Probe the current template's running replicas that are due; set their health.

        Older replicas keep the health last recorded for them: they are on their way out,
        and judging them by a check written for the new template could take them down."""
        check = ctx.health_check
        if not check:
            return
        spec = HealthCheckSpec(check["interval_s"], check["timeout_s"], check["retries"],
                               check["start_period_s"])
        now = utcnow()
        states: dict[tuple[str, str], HealthState] = {}
        due: list[ObservedContainer] = []
        for c in obs.containers:
            key = (c.host, c.name)
            record = ctx.known.get(key)
            state = HealthState(
                record.health if record and record.health != "none" else "starting",
                record.probe_failures if record else 0,
                record.last_probe_at if record else None,
                (record.last_probe or "") if record else "",
            )
            states[key] = state
            if (c.template_hash == ctx.desired.template_hash and c.state == "running"
                    and c.host not in obs.unreachable and health_rules.is_due(state, spec, now)):
                due.append(c)
        futures = {
            (c.host, c.name): docker_pool().submit(
                probe, self._client(ctx.hosts[c.host]), c.container_id, check
            )
            for c in due
        }
        by_key = {(c.host, c.name): c for c in obs.containers}
        for key, future in futures.items():
            result = future.result()
            states[key] = health_rules.after_probe(
                states[key], result.ok, result.output, spec, by_key[key].started_at, utcnow()
            )
        obs.health = states
        def health_of(c: ObservedContainer) -> str:
            if c.template_hash == ctx.desired.template_hash:
                return states[(c.host, c.name)].health
            record = ctx.known.get((c.host, c.name))
            return record.health if record else "none"

        obs.containers = [
            dataclasses.replace(c, health=health_of(c)) if c.state == "running" else c
            for c in obs.containers
        ]
        pending = [
            health_rules.next_probe_at(states[(c.host, c.name)], spec)
            for c in obs.containers
            if c.template_hash == ctx.desired.template_hash and c.state == "running"
            and states[(c.host, c.name)].health != "healthy"
        ]
        pending = [t for t in pending if t is not None]
        obs.next_probe_at = min(pending) if pending else None

    def _pin_image(self, ctx: Context, obs: Observation) -> None:
        """Record the image id the tag means now; every replica of the revision runs it."""
        assert ctx.image_source is not None
        reachable = [self._client(ctx.hosts[v.name]) for v in obs.views if v.reachable]
        if not reachable:
            return
        ref = ctx.image_source.ref
        image = images.resolve(reachable, ctx.image_source, ctx.revision.pin_from_registry)
        pull_ref = image.repo_digest_for(ref)
        with session_scope() as session:
            rev = session.get(Revision, ctx.revision.id)
            if rev is not None and rev.image_digest is None:
                rev.image_digest, rev.image_pull_ref = image.id, pull_ref
                event_repo.record(
                    session, ctx.deployment_id, "ImagePinned",
                    f"revision {rev.number}: {ref} is {image.id}"
                    + (f" (hosts pull {pull_ref})" if pull_ref else ""),
                )
        ctx.revision.image_digest, ctx.revision.image_pull_ref = image.id, pull_ref

    # -- act -------------------------------------------------------------------------

    def _request(self, ctx: Context, create: Create) -> ContainerRequest:
        spec, rev = ctx.revision.spec, ctx.revision
        labels = {
            **spec.get("labels", {}),
            L_MANAGED: "true",
            L_DEPLOYMENT: ctx.name,
            L_DEPLOYMENT_ID: str(ctx.deployment_id),
            L_INSTALLATION: self.settings.installation_id,
            L_REVISION: str(rev.number),
            L_SLOT: str(create.slot),
            L_TEMPLATE: rev.template_hash,
        }
        resources = spec.get("resources") or {}
        return ContainerRequest(
            name=create.name,
            image=rev.image_digest or spec["image"],
            labels=labels,
            env={**spec.get("env", {}), **rev.secrets},
            command=spec.get("command"),
            entrypoint=spec.get("entrypoint"),
            ports=spec.get("ports", []),
            cpus=resources.get("cpus"),
            memory_mb=resources.get("memory_mb"),
            volumes=spec.get("volumes", []),
        )

    def _run_action(self, ctx: Context, action: Action) -> Outcome:
        try:
            if isinstance(action, Create):
                client = self._client(ctx.hosts[action.host])
                request = self._request(ctx, action)
                try:
                    cid = client.create_and_start(request)
                except ImageMissing:
                    assert ctx.image_source is not None
                    images.ensure(client, ctx.image_source, request.image,
                                  ctx.revision.image_pull_ref)
                    cid = client.create_and_start(request)
                return Outcome(action, container_id=cid)
            client = self._client(ctx.hosts[action.container.host])
            if isinstance(action, Start):
                client.start(action.container.container_id)
            else:
                client.remove(action.container.container_id)
            return Outcome(action)
        except EngineError as exc:
            return Outcome(action, error=exc)
        except Exception as exc:  # a bug must not kill the whole batch silently
            log.exception("action %s failed unexpectedly", action)
            return Outcome(action, error=TemporaryEngineError(f"unexpected error: {exc}"))

    def _execute(self, ctx: Context, the_plan: Plan) -> list[Outcome]:
        futures = [docker_pool().submit(self._run_action, ctx, a) for a in the_plan.actions]
        return [f.result() for f in futures]

    # -- record ----------------------------------------------------------------------

    def _rollout(self, session: Session, deployment: Deployment) -> Rollout | None:
        active = rollout_repo.active(session, deployment.id)
        return active[0] if active else None

    def _record_observation(
        self, ctx: Context, obs: Observation, the_plan: Plan, summary: Summary
    ) -> bool | None:
        """Write replicas, status and rollout progress. True when nothing is left to do,
        None when the desired state moved under this pass (its plan is stale)."""
        with session_scope() as session:
            deployment = deployment_repo.find(session, ctx.deployment_id)
            if deployment is None:
                return True
            if deployment.generation != ctx.generation:
                # Desired state changed while we looked: conclusions drawn from the old
                # one (this rollout succeeded, that one is late) would be wrong. Re-plan.
                return None
            rollout = self._rollout(session, deployment)
            now = utcnow()
            if rollout is not None and rollout.state == "pending":
                transition(rollout, "in_progress")
                event_repo.record(session, deployment.id, "RolloutStarted",
                                  f"{rollout.kind} to revision {rollout.to_revision}",
                                  rollout_id=rollout.id)
            for error in obs.unreachable.values():
                event_repo.record(session, deployment.id, "HostUnreachable", error,
                                  warning=True, dedupe=True)
            self._sync_replicas(session, deployment, ctx, obs)
            if the_plan.stable_slots:
                deployment.slot_restarts = {
                    k: v for k, v in (deployment.slot_restarts or {}).items()
                    if int(k) not in the_plan.stable_slots
                }
            done = the_plan.empty and summary.converged
            if deployment.deleting and done:
                if rollout is not None:
                    transition(rollout, "succeeded", "every replica removed")
                session.delete(deployment)
                return True
            if rollout is not None:
                self._progress(rollout, summary)
                if done and rollout.to_revision == deployment.revision:
                    transition(rollout, "succeeded",
                               f"{summary.ready}/{summary.replicas} replicas ready")
                    event_repo.record(session, deployment.id, "RolloutSucceeded",
                                      rollout.message, rollout_id=rollout.id)
                    rollout = None
                elif self._past_deadline(ctx, rollout, now):
                    reason = f"no progress for {ctx.progress_deadline_s:g}s (progress deadline)"
                    if probe := self._failing_probe(ctx, obs):
                        reason = f"{reason}: {probe}"
                    elif last := event_repo.last_warning(
                            session, deployment.id, rollout.started_at or rollout.created_at):
                        reason = f"{reason}; last warning: {last.message}"
                    self._fail_rollout(session, deployment, rollout, reason, ctx)
                    return False  # a rollback may have begun: the next pass plans it
            self._write_status(deployment, rollout, summary, the_plan)
            if the_plan.pending:
                event_repo.record(session, deployment.id, "Unschedulable",
                                  "; ".join(the_plan.pending), warning=True, dedupe=True)
            if done:
                deployment.observed_generation = deployment.generation
                # Converged: look again at the next resync, to catch drift.
                deployment.next_reconcile_at = now + timedelta(
                    seconds=self.settings.resync_interval_s
                )
            return done

    def _sync_replicas(
        self, session: Session, deployment: Deployment, ctx: Context, obs: Observation
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
        self, deployment: Deployment, rollout: Rollout | None, summary: Summary, the_plan: Plan
    ) -> None:
        deployment.replicas = summary.replicas
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

    @staticmethod
    def _progress(rollout: Rollout, summary: Summary) -> None:
        changed = (rollout.updated, rollout.ready) != (summary.updated, summary.ready)
        rollout.desired = summary.replicas
        rollout.updated = summary.updated
        rollout.ready = summary.ready
        rollout.unavailable = summary.unavailable
        if changed:
            rollout.last_progress_at = utcnow()

    @staticmethod
    def _past_deadline(ctx: Context, rollout: Rollout, now: datetime) -> bool:
        since = rollout.last_progress_at or rollout.started_at or rollout.created_at
        return since is not None and (now - since).total_seconds() > ctx.progress_deadline_s

    @staticmethod
    def _failing_probe(ctx: Context, obs: Observation) -> str:
        for c in obs.containers:
            state = obs.health.get((c.host, c.name))
            if (c.template_hash == ctx.desired.template_hash and state is not None
                    and state.health != "healthy" and state.output):
                return f"replica {c.name} {state.health}: {state.output}"
        return ""

    def _fail_rollout(
        self,
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
            transition(rollout, "in_progress")
        if rollout is not None and ctx.auto_rollback and rollout.kind not in ("rollback", "delete"):
            target = rollout_repo.last_succeeded_revision(session, deployment.id,
                                                          exclude=deployment.revision)
        if rollout is not None and target is not None:
            transition(rollout, "rolled_back", f"{message}; rolling back to revision {target}")
            event_repo.record(session, deployment.id, "RolloutRolledBack", rollout.message,
                              warning=True, rollout_id=rollout.id)
            session.flush()
            try:
                deployment_service.rollback(session, deployment.name, target)
                return
            except AppError as exc:
                log.warning("automatic rollback of %s refused: %s", deployment.name, exc)
        elif rollout is not None:
            transition(rollout, "failed", message)
            event_repo.record(session, deployment.id, "RolloutFailed", message,
                              warning=True, rollout_id=rollout.id)
        deployment.phase, deployment.message = "failed", message
        deployment.next_reconcile_at = utcnow() + timedelta(seconds=FAILED_RETRY_S)

    def _record_outcomes(self, ctx: Context, outcomes: list[Outcome]) -> float | None:
        with session_scope() as session:
            deployment = deployment_repo.find(session, ctx.deployment_id)
            if deployment is None:
                return None
            rollout = self._rollout(session, deployment)
            rollout_id = rollout.id if rollout else None
            restarts = dict(deployment.slot_restarts or {})
            permanent: list[str] = []
            temporary = False
            for o in outcomes:
                a = o.action
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
                        delay = self.backoff.delay(prev + 1).total_seconds()
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
                self._fail_rollout(session, deployment, rollout, permanent[0], ctx)
                return 0.0 if deployment.phase != "failed" else None
        return 1.0 if temporary else 0.0

    def _record_failure(self, ctx: Context, obs: Observation, exc: EngineError) -> float | None:
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
            rollout = self._rollout(session, deployment)
            message = str(exc)
            if exc.temporary:
                if rollout is None or not self._past_deadline(ctx, rollout, utcnow()):
                    return 1.0
                message = f"no progress for {ctx.progress_deadline_s:g}s (progress deadline): {exc}"
            self._fail_rollout(session, deployment, rollout, message, ctx)
            return 0.0 if deployment.phase != "failed" else None
