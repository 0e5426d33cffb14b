"""ORM rows -> API models. Secret values never pass through here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.config import get_settings
from app.models import (
    ApiToken,
    AutoscalerState,
    Event,
    Host,
    RegistryCredential,
    Replica,
    Revision,
    Rollout,
    UsageSample,
    Webhook,
    WebhookDelivery,
)
from app.reconcile.endpoints import EdgeView
from app.repositories.deployments import DeploymentView
from app.schemas.deployments import (
    AutoscalerStatus,
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
    UsageTotals,
    revision_spec_read,
    spec_read,
)
from app.schemas.hosts import HostRead
from app.schemas.registries import RegistryCredentialRead
from app.schemas.tokens import TokenRead
from app.schemas.webhooks import DeliveryRead, WebhookRead
from app.services import endpoints
from app.services.usage import Totals


def etag(resource_version: int) -> str:
    return f'"{resource_version}"'


def rollout(r: Rollout) -> RolloutRead:
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


def deployment(view: DeploymentView, usage: Totals | None = None,
               autoscaler: AutoscalerState | None = None,
               edges: Sequence[EdgeView] = ()) -> DeploymentRead:
    """From a whole view (one snapshot): no query here, so none can find a row gone.
    ``usage``: its replicas' newest samples, summed (app.services.usage.totals);
    ``autoscaler``: the autoscaler's last look, shown while autoscale is set;
    ``edges``: the edge hosts, for the endpoint's URLs."""
    d, revision, current = view
    return DeploymentRead(
        name=d.name,
        spec=spec_read(revision.spec, list(revision.secrets), d.replicas, d.autoscale),
        revision=d.revision,
        resource_version=d.resource_version,
        status=DeploymentStatus(
            phase=d.phase,
            replicas=d.replicas,
            ready_replicas=d.ready_replicas,
            updated_replicas=d.updated_replicas,
            unavailable_replicas=d.unavailable_replicas,
            observed_revision=d.observed_revision,
            message=d.message,
            conditions=[Condition(**c) for c in d.conditions or []],
            usage=UsageTotals(cpu_percent=round(usage.cpu_percent, 2),
                              memory_bytes=usage.memory_bytes, replicas=usage.replicas,
                              sampled_at=usage.sampled_at) if usage else None,
            autoscaler=AutoscalerStatus(
                current_replicas=autoscaler.current_replicas,
                desired_replicas=autoscaler.desired_replicas,
                recommendation=autoscaler.recommendation, last_decision=autoscaler.message,
                decided_at=autoscaler.decided_at) if autoscaler and d.autoscale else None,
        ),
        current_rollout=rollout(current) if current else None,
        endpoint=endpoints.read(revision.spec, d, list(edges), get_settings()),
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


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
        edge=bool(h.edge), edge_address=h.edge_address,
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
