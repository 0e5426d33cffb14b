"""ORM rows -> API models. Secret values never pass through here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import (
    ApiToken,
    AutoscalerState,
    Deployment,
    Event,
    Host,
    RegistryCredential,
    Replica,
    Revision,
    Rollout,
    Stack,
    StackRevision,
    StackRollout,
    UsageSample,
    Webhook,
    WebhookDelivery,
)
from app.reconcile.endpoints import EdgeView
from app.repositories import stacks as stack_repo
from app.repositories.deployments import DeploymentView, RolloutRow
from app.schemas.deployments import (
    AutoscalerStatus,
    AutoscaleSpec,
    Condition,
    DeploymentRead,
    DeploymentStatus,
    EventRead,
    ReplicaPort,
    ReplicaRead,
    ReplicaUsage,
    RevisionRead,
    RolloutProgress,
    RolloutRead,
    SpecRead,
    UsageTotals,
    revision_spec_read,
    spec_read,
)
from app.schemas.hosts import HostRead
from app.schemas.registries import RegistryCredentialRead
from app.schemas.stacks import (
    StackRead,
    StackRevisionRead,
    StackRolloutRead,
    StackServiceRead,
    StackStatus,
)
from app.schemas.tokens import TokenRead
from app.schemas.webhooks import DeliveryRead, WebhookRead
from app.services import endpoints


def etag(resource_version: int) -> str:
    return f'"{resource_version}"'


def rollout(r: Rollout | RolloutRow) -> RolloutRead:
    return RolloutRead(
        id=r.id,
        deployment=r.deployment_name,
        kind=r.kind,
        from_revision=r.from_revision,
        to_revision=r.to_revision,
        state=r.state,
        progress=RolloutProgress(
            desired=r.desired, updated=r.updated, ready=r.ready, unavailable=r.unavailable
        ),
        message=r.message,
        created_at=r.created_at,
        started_at=r.started_at,
        finished_at=r.finished_at,
    )


# A revision never changes (a reseal keeps its secrets' names), so its spec is validated
# into the API's model once a process, not on every read (that was half a page of views'
# presenting): by (deployment id, revision), ids being never reused. The deployment's own
# replicas and autoscale, which change, go on a copy each time.
_SPECS: dict[tuple[uuid.UUID, int], SpecRead] = {}
_SPECS_KEPT = 4096


def forget_specs() -> None:
    """Drop the specs (and the deployments' JSON) kept: what a process that starts does
    not have (for a test that rewrites stored revisions as an older version of Moorage
    left them)."""
    _SPECS.clear()
    _SHOWN.clear()


def _spec(v: DeploymentView) -> SpecRead:
    key = (v.id, v.revision)
    kept = _SPECS.get(key)
    if kept is None:
        kept = spec_read(v.spec, v.secret_keys, v.replicas, v.autoscale)
        if len(_SPECS) >= _SPECS_KEPT:
            _SPECS.clear()  # crude, but a bound; a page is at most 500
        _SPECS[key] = kept
        return kept
    if kept.replicas == v.replicas and kept.autoscale is None and not v.autoscale:
        return kept  # as it was kept: a copy would be the same (and was 10 % of a page)
    return kept.model_copy(update={
        "replicas": v.replicas,
        "autoscale": AutoscaleSpec.model_validate(v.autoscale) if v.autoscale else None})


def deployment(view: DeploymentView, autoscaler: AutoscalerState | None = None,
               edges: Sequence[EdgeView] = ()) -> DeploymentRead:
    """From a whole view (one snapshot, its usage in it): no query here, so none can
    find a row gone. ``autoscaler``: the autoscaler's last look, shown while autoscale
    is set; ``edges``: the edge hosts, for the endpoint's URLs."""
    v, usage, autoscaler = view, view.usage, autoscaler if view.autoscale else None
    return DeploymentRead(
        name=v.name,
        stack=v.stack,
        spec=_spec(v),
        revision=v.revision,
        resource_version=v.resource_version,
        status=DeploymentStatus(
            phase=v.phase,
            replicas=v.replicas,
            ready_replicas=v.ready_replicas,
            updated_replicas=v.updated_replicas,
            unavailable_replicas=v.unavailable_replicas,
            observed_revision=v.observed_revision,
            message=v.message,
            conditions=[Condition(**c) for c in v.conditions or []],
            usage=UsageTotals(cpu_percent=round(usage.cpu_percent, 2),
                              memory_bytes=usage.memory_bytes, replicas=usage.replicas,
                              sampled_at=usage.sampled_at) if usage else None,
            autoscaler=AutoscalerStatus(
                current_replicas=autoscaler.current_replicas,
                desired_replicas=autoscaler.desired_replicas,
                recommendation=autoscaler.recommendation, last_decision=autoscaler.message,
                decided_at=autoscaler.decided_at) if autoscaler else None,
        ),
        current_rollout=rollout(v.rollout) if v.rollout else None,
        endpoint=endpoints.read(v.spec, v.endpoint_listen_port, v.endpoint_state, list(edges),
                                get_settings()),
        created_at=v.created_at,
        updated_at=v.updated_at,
    )


# A deployment's JSON as last shown, with what it was made from. Presenting is a pure
# function of the view (one row of one statement), the autoscaler's last look, the edges
# and the settings, so equal inputs give the same bytes; in a fleet at rest nearly every
# row of a page is as it was at the last read, and building and serializing the models
# was half of a page's CPU. By deployment id, ids being never reused.
_SHOWN: dict[uuid.UUID, tuple[object, tuple, bytes]] = {}
_SHOWN_KEPT = 4096


def deployment_json(view: DeploymentView, autoscaler: AutoscalerState | None = None,
                    edges: Sequence[EdgeView] = ()) -> bytes:
    """``deployment(view, autoscaler, edges)`` as JSON (by alias, as FastAPI renders it)."""
    settings = get_settings()
    look = (autoscaler.current_replicas, autoscaler.desired_replicas, autoscaler.recommendation,
            autoscaler.message, autoscaler.decided_at) if autoscaler and view.autoscale else None
    inputs = (view, look, tuple(edges))
    kept = _SHOWN.get(view.id)
    if kept is not None and kept[0] is settings and kept[1] == inputs:
        return kept[2]
    shown = deployment(view, autoscaler, edges)
    body = shown.__pydantic_serializer__.to_json(shown, by_alias=True)
    if len(_SHOWN) >= _SHOWN_KEPT:
        _SHOWN.clear()  # crude, but a bound; a page is at most 500
    _SHOWN[view.id] = (settings, inputs, body)
    return body


def revision(r: Revision) -> RevisionRead:
    return RevisionRead(
        number=r.number,
        spec=revision_spec_read(r.spec, list(r.secrets)),
        image_digest=r.image_digest,
        created_at=r.created_at,
    )


def replica(r: Replica, host_names: dict[uuid.UUID, str],
            usage: UsageSample | None = None) -> ReplicaRead:
    return ReplicaRead(
        id=r.id,
        host=host_names.get(r.host_id, "?"),
        slot=r.slot,
        container_id=r.container_id,
        container_name=r.container_name,
        revision=r.revision,
        state=r.state,
        health=r.health,
        ports=[
            ReplicaPort(container_port=p["container_port"], host_ip=p.get("host_ip"),
                        host_port=p.get("host_port"))
            for p in r.ports or []
        ],
        started_at=r.started_at,
        restart_count=r.restart_count,
        exit_code=r.exit_code,
        last_probe=r.last_probe,
        usage=ReplicaUsage(
            cpu_percent=None if usage.cpu_percent is None else round(usage.cpu_percent, 2),
            memory_bytes=usage.memory_bytes,
            memory_percent=None if usage.memory_percent is None else round(usage.memory_percent, 2),
            sampled_at=usage.sampled_at) if usage else None,
    )


def event(e: Event, deployment_name: str) -> EventRead:
    return EventRead(
        id=e.id, deployment=deployment_name, time=e.time, type=e.type, reason=e.reason, message=e.message,
        rollout_id=e.rollout_id, replica_id=e.replica_id,
    )


def host(h: Host) -> HostRead:
    state = h.state
    if state == "ready" and not h.schedulable:
        state = "draining"
    return HostRead(
        name=h.name, url=h.url, labels=h.labels, state=state, schedulable=h.schedulable,
        engine_version=h.engine_version, cpus=h.cpus, memory_bytes=h.memory_bytes,
        containers=h.containers, last_heartbeat_at=h.last_heartbeat_at,
        last_error=h.last_error, allowed_bind_prefixes=list(h.allowed_bind_prefixes or []),
        edge=bool(h.edge), edge_address=h.edge_address, edge_error=h.edge_error,
        resource_version=h.resource_version, created_at=h.created_at,
    )


def token(t: ApiToken) -> TokenRead:
    return TokenRead(id=t.id, name=t.name, scopes=t.scopes, created_at=t.created_at,
                     expires_at=t.expires_at, revoked_at=t.revoked_at,
                     last_used_at=t.last_used_at)


def registry(c: RegistryCredential) -> RegistryCredentialRead:
    """Never the password."""
    return RegistryCredentialRead(registry=c.name, username=c.username,
                                  created_at=c.created_at, updated_at=c.updated_at)


def webhook(w: Webhook, deployment_name: str) -> WebhookRead:
    """Never the secret: only the creation answer carries it, once."""
    return WebhookRead(id=w.id, deployment=deployment_name, kind=w.kind,
                       tag_pattern=w.tag_pattern, url=f"/v1/hooks/{w.id}",
                       created_at=w.created_at)


def delivery(d: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(id=d.id, received_at=d.received_at, delivery_id=d.delivery_id,
                        outcome=d.outcome, rollout_id=d.rollout_id, reason=d.reason)


# ---- stacks ---------------------------------------------------------------------------


def stack_rollout(r: StackRollout) -> StackRolloutRead:
    return StackRolloutRead(
        id=r.id, stack=r.stack_name, kind=r.kind, from_revision=r.from_revision,
        to_revision=r.to_revision, state=r.state, message=r.message,
        services={k: uuid.UUID(v) if v else None for k, v in (r.applied or {}).items()},
        created_at=r.created_at, started_at=r.started_at, finished_at=r.finished_at,
    )


def stack_revision(r: StackRevision) -> StackRevisionRead:
    keys = sorted({k for values in (r.secrets or {}).values() for k in values})
    return StackRevisionRead(number=r.number, compose=r.compose,
                             services=[e["name"] for e in r.services], secret_keys=keys,
                             created_at=r.created_at)


def stacks(session: Session, rows: list[Stack]) -> list[StackRead]:
    """Whole stacks in a constant number of statements, whatever their number."""
    ids = [s.id for s in rows]
    revisions = stack_repo.current_revisions(session, rows)
    owned: dict[uuid.UUID, dict[str, Deployment]] = {}
    for d in stack_repo.services(session, ids):
        assert d.stack_id is not None
        owned.setdefault(d.stack_id, {})[d.name] = d
    latest = stack_repo.latest_rollouts(session, ids)
    out = []
    for s in rows:
        rev = revisions[s.id]
        by_name = owned.get(s.id, {})
        services = []
        for entry in rev.services:
            d = by_name.get(entry["deployment"])
            services.append(StackServiceRead(
                name=entry["name"], deployment=entry["deployment"],
                depends_on={dep: cond for dep, cond in entry["depends_on"]},
                failure_action=entry["failure_action"],
                phase=d.phase if d is not None else None,
                replicas=d.replicas if d is not None else int(entry["replicas"]),
                ready_replicas=d.ready_replicas if d is not None else 0,
                revision=d.revision if d is not None else None,
                message=d.message if d is not None else ""))
        rollout = latest.get(s.id)
        out.append(StackRead(
            name=s.name, revision=s.revision, resource_version=s.resource_version,
            status=StackStatus(phase=s.phase, message=s.message), services=services,
            volumes=list(rev.volumes), networks=list(rev.networks),
            current_rollout=stack_rollout(rollout) if rollout is not None else None,
            created_at=s.created_at, updated_at=s.updated_at))
    return out


def stack(session: Session, s: Stack) -> StackRead:
    return stacks(session, [s])[0]
