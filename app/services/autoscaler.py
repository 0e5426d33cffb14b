"""The autoscaler: each autoscaled deployment's recent usage, judged by the core's rule
(app.reconcile.autoscale, Kubernetes' HPA), and the scale it decides on made through the
path an apply's scale takes (a ``Scaled`` event with its reason, a ``scale`` rollout).

It looks right after each usage tick, one deployment per short transaction with the
deployment locked as an apply locks it, so an apply and the autoscaler never write the
count over each other. It leaves a deployment alone while a rollout other than a scale
runs (its creation, an update, a rollback): a scale would supersede it, and with it the
rollout's deadline and automatic rollback.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import session_scope, utcnow
from app.models import AutoscalerState, Deployment
from app.reconcile import autoscale as rules
from app.reconcile import template as tpl
from app.reconcile.scheduler import placeable
from app.reconcile.vocabulary import RolloutKind
from app.repositories import autoscaler as autoscaler_repo
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.repositories import rollouts as rollout_repo
from app.repositories import usage as usage_repo
from app.services import deployments as deployment_service
from app.services import fleet
from app.services import usage as usage_service
from app.services.reconciler.context import other_loads

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Look:
    deployment_id: uuid.UUID
    current: int
    desired: int
    message: str


def look_at_all(settings: Settings | None = None) -> list[Look]:
    settings = settings or get_settings()
    with session_scope() as session:
        ids = autoscaler_repo.autoscaled_ids(session)
    looks = []
    for deployment_id in ids:
        try:
            with session_scope() as session:
                look = _look(session, deployment_id, settings, utcnow())
        except Exception:  # one deployment's trouble must not keep the others unscaled
            log.warning("autoscaler: could not look at %s", deployment_id, exc_info=True)
            continue
        if look is not None:
            looks.append(look)
    return looks


def _look(session: Session, deployment_id: uuid.UUID, settings: Settings,
          now: datetime) -> Look | None:
    deployment = autoscaler_repo.lock(session, deployment_id)
    if deployment is None or deployment.deleting or deployment.autoscale is None:
        return None
    policy = rules.Policy.from_dict(deployment.autoscale)
    row = autoscaler_repo.state(session, deployment_id)
    busy = [r for r in rollout_repo.active(session, deployment_id)
            if r.kind != RolloutKind.SCALE]
    if busy:
        message = f"waits for the {busy[0].kind} rollout to end: stays at {deployment.replicas}"
        _remember(session, row, deployment, rules.Decision(
            deployment.replicas, deployment.replicas, deployment.replicas, message,
            rules.state_from_dict(row.memory if row else None)), now)
        return Look(deployment_id, deployment.replicas, deployment.replicas, message)

    window = settings.autoscale_metric_window_s
    start = now - timedelta(seconds=window)
    # From one lookback earlier: a sample kept before the window may still stand in it.
    lookback = usage_service.lookback_s(settings)
    usage = rules.means(usage_repo.window_of_replicas(
        session, deployment_id, start - timedelta(seconds=lookback)), start, now, lookback)
    decision = rules.decide(
        policy, deployment.replicas, usage, rules.state_from_dict(row.memory if row else None),
        now, window_s=window, tolerance=settings.autoscale_tolerance,
        placeable=_placeable(session, deployment, policy.max_replicas, settings))
    _remember(session, row, deployment, decision, now)
    if decision.scales:
        log.info("autoscaler: %s: %s", deployment.name, decision.message)
        deployment_service.autoscale_to(session, deployment, decision.desired, decision.message)
    return Look(deployment_id, decision.current, decision.desired, decision.message)


def _placeable(session: Session, deployment: Deployment, want: int,
               settings: Settings) -> tuple[int, str] | None:
    """How many of its replicas the hosts could hold, as the planner would place them."""
    revision = deployment_repo.revision(session, deployment.id, deployment.revision)
    try:
        template = tpl.from_dict(revision.template)
    except tpl.TemplateError:
        return None  # the reconciler says what is wrong with it
    placement = template.desired(deployment.name, revision.number, want,
                                 revision.template_hash).placement
    hosts = host_repo.all_hosts(session)
    loads = other_loads(session, deployment.id, {h.id: h for h in hosts})
    return placeable(fleet.views(hosts, settings.bind_allow), placement, loads, want)


def _remember(session: Session, row: AutoscalerState | None, deployment: Deployment,
              decision: rules.Decision, now: datetime) -> None:
    if row is None:
        row = AutoscalerState(deployment_id=deployment.id)
        session.add(row)
    row.memory = rules.state_to_dict(decision.state)
    row.current_replicas = decision.current
    row.desired_replicas = decision.desired
    row.recommendation = decision.recommendation
    row.message = decision.message
    row.decided_at = now
    session.flush()
