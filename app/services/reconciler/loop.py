"""The reconcile loop: hold the deployment's lease, run passes until done or waiting."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

from app import jobs
from app.config import Settings, get_settings
from app.db import session_scope, utcnow
from app.dockerhost import EngineError
from app.reconcile.planner import BackoffPolicy
from app.repositories import deployments as deployment_repo
from app.services import endpoints
from app.services.reconciler.act import execute
from app.services.reconciler.context import load
from app.services.reconciler.observe import observe, pin_image, probe
from app.services.reconciler.record import record_failure, record_outcomes, record_pass

log = logging.getLogger(__name__)

# Waits shorter than this are slept through inside the task; longer ones go to the resync.
INLINE_WAIT_S = 2.0
# While other jobs wait, a deployment with more to do now gives its worker up after this.
FAIR_SLICE_S = 1.0


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
                    log.warning("lost the lease on deployment %s (expired, and another worker "
                                "took it); stopping after this pass", self.deployment_id)
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

    def run(self, deployment_id: uuid.UUID) -> None:
        if not self._take_lease_or_hand_over(deployment_id):
            log.debug("deployment %s is being reconciled elsewhere; it looks again", deployment_id)
            return
        keeper = LeaseKeeper(self, deployment_id)
        keeper.start()
        come_back_in: float | None = None
        try:
            started = time.monotonic()
            deadline = started + self.settings.reconcile_budget_s
            while not keeper.lost.is_set():
                wait = self._pass(deployment_id)
                if wait is None:
                    return
                if wait > INLINE_WAIT_S or time.monotonic() + wait > deadline:
                    self._defer(deployment_id, wait)
                    return
                if self._give_way(started, wait):
                    come_back_in = wait
                    return
                time.sleep(wait)
        finally:
            keeper.stop()
            with session_scope() as session:
                deployment = deployment_repo.release_lease(session, deployment_id, self.owner)
                again = deployment is not None and (
                    deployment.look_again or deployment.generation != self.seen_generation)
                if deployment is not None:
                    deployment.look_again = False
            if again:
                # A job came (or a change landed) while we held the lease: look again,
                # behind the others in the queue rather than at once.
                jobs.request_reconcile([deployment_id])
            elif come_back_in is not None and deployment is not None:
                jobs.request_reconcile([deployment_id], delay_s=come_back_in)

    def _give_way(self, started: float, wait: float) -> bool:
        """Whether to end this task and come back with a job of its own, because others
        wait for a worker: rather than sleep through a wait (a health check's interval)
        holding the worker, or keep it past a fair slice when there is more to do now.
        With nobody waiting, a deployment keeps its worker and sleeps (no broker round
        trip in an idle system)."""
        if wait <= 0 and time.monotonic() - started < FAIR_SLICE_S:
            return False
        # A broker that does not answer could not take the job to come back with either:
        # then keep the worker, and the pass goes on through the outage.
        return bool(jobs.waiting_reconciles())

    def _take_lease_or_hand_over(self, deployment_id: uuid.UUID) -> bool:
        """Take the lease, or have its holder look again when it ends. One of the two
        always happens: whichever way the holder's release races this, the request for
        a look is never lost."""
        for attempt in range(3):
            # The first try also marks the job picked up (app.jobs' rule: from
            # now on a request sends a new one; the pass about to run may be too old for it).
            if self._lease(deployment_id, picked_up=attempt == 0):
                return True
            with session_scope() as session:
                if deployment_repo.ask_holder_to_look_again(session, deployment_id, utcnow()):
                    return False
        return False  # the lease flips between holders; the holder's own end looks again

    def _lease(self, deployment_id: uuid.UUID, picked_up: bool = False) -> bool:
        now = utcnow()
        until = now + timedelta(seconds=self.settings.reconcile_lease_s)
        take = (deployment_repo.pick_up_job_and_try_lease if picked_up
                else deployment_repo.try_acquire_lease)
        with session_scope() as session:
            return take(session, deployment_id, self.owner, now, until)

    def _defer(self, deployment_id: uuid.UUID, wait: float) -> None:
        with session_scope() as session:
            deployment = deployment_repo.find(session, deployment_id)
            if deployment is not None:
                deployment.next_reconcile_at = utcnow() + timedelta(seconds=wait)

    def _pass(self, deployment_id: uuid.UUID) -> float | None:
        """One observe-decide-act-record round. Returns seconds to wait, or None when done.
        What to do is the core's (app.reconcile.decide); this only carries it out."""
        ctx = load(deployment_id, self.settings, on_generation=self._saw_generation)
        if ctx is None:
            return None
        obs = observe(ctx, self.settings)
        if not ctx.desired.deleting and ctx.desired.replicas > 0 and not ctx.revision.image_digest:
            try:
                pin_image(ctx, obs, self.settings)
            except EngineError as exc:
                return record_failure(ctx, exc, self.settings)
        probe(ctx, obs, self.settings)
        recorded = record_pass(ctx, obs, self.settings, self.backoff)
        # Endpoint hook (app.services.endpoints): upstreams follow readiness, and the
        # replicas this plan removes are taken out of the edges and drained first.
        endpoints.before_acting(ctx, obs, recorded.plan, self.settings)
        if recorded.plan.empty:
            return recorded.wait_s
        outcomes = execute(ctx, recorded.plan, self.settings)
        return record_outcomes(ctx, outcomes, self.settings, self.backoff)

    def _saw_generation(self, generation: int) -> None:
        self.seen_generation = generation
