"""Deployments as Moorage stored them up to migration 0013, before revisions had a typed
template (0015): the public spec, replicas included, in ``revision.spec`` and nothing
else. Written with plain SQL into a database migrated to 0013, so what the tests upgrade
is that format, not whatever today's code would write."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from app.db import UTCDateTime
from app.sealing import SealedJSON, open_sealed

# A revision's spec exactly as 0013's apply stored it (DeploymentSpec.model_dump without
# secrets, with replicas). The image is filled in by the caller. Never edit this to
# follow the API: it is what old databases hold.
SPEC_0013: dict[str, Any] = {
    "image": "IMAGE", "replicas": 2, "command": None, "entrypoint": None,
    "env": {"GREETING": "hello"},
    "ports": [{"container_port": 8080, "host_port": None, "protocol": "tcp",
               "host_ip": "127.0.0.1"}],
    "health_check": {"http": {"path": "/version", "port": 8080}, "tcp": None, "exec": None,
                     "interval_s": 0.5, "timeout_s": 2.0, "retries": 3, "start_period_s": 0.0},
    "resources": {"cpus": None, "memory_mb": None}, "restart_policy": "always",
    "labels": {"team": "legacy"}, "placement": {"constraints": [], "max_per_host": None},
    "update_strategy": {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.0,
                        "progress_deadline_s": 60.0, "auto_rollback": True},
    "volumes": [],
}

_deployment = sa.table(
    "deployment",
    sa.column("id", sa.Uuid()), sa.column("name", sa.String()), sa.column("labels", sa.JSON()),
    sa.column("revision", sa.Integer()), sa.column("resource_version", sa.Integer()),
    sa.column("generation", sa.Integer()), sa.column("observed_generation", sa.Integer()),
    sa.column("deleting", sa.Boolean()), sa.column("phase", sa.String()),
    sa.column("replicas", sa.Integer()), sa.column("ready_replicas", sa.Integer()),
    sa.column("updated_replicas", sa.Integer()), sa.column("unavailable_replicas", sa.Integer()),
    sa.column("message", sa.Text()), sa.column("conditions", sa.JSON()),
    sa.column("slot_restarts", sa.JSON()), sa.column("look_again", sa.Boolean()),
    sa.column("created_at", UTCDateTime()), sa.column("updated_at", UTCDateTime()),
)
_revision = sa.table(
    "revision",
    sa.column("deployment_id", sa.Uuid()), sa.column("number", sa.Integer()),
    sa.column("spec", sa.JSON()), sa.column("secrets", SealedJSON()),
    sa.column("template_hash", sa.String()), sa.column("spec_hash", sa.String()),
    sa.column("restart_nonce", sa.String()), sa.column("pin_from_registry", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
)
_rollout = sa.table(
    "rollout",
    sa.column("id", sa.Uuid()), sa.column("deployment_id", sa.Uuid()),
    sa.column("deployment_name", sa.String()), sa.column("kind", sa.String()),
    sa.column("from_revision", sa.Integer()), sa.column("to_revision", sa.Integer()),
    sa.column("state", sa.String()), sa.column("desired", sa.Integer()),
    sa.column("updated", sa.Integer()), sa.column("ready", sa.Integer()),
    sa.column("unavailable", sa.Integer()), sa.column("message", sa.Text()),
    sa.column("created_at", UTCDateTime()),
)


def spec_0013(image: str, **overrides: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SPEC_0013), "image": image, **overrides}


def insert_deployment_0013(
    conn: sa.Connection, name: str, revisions: list[dict[str, Any]],
    secrets: dict[str, str] | None = None,
) -> tuple[uuid.UUID, uuid.UUID]:
    """A deployment whose revisions are ``revisions`` (specs as 0013 stored them), the
    last one current, with the pending rollout 0013's apply started for it, and
    deployment.replicas as 0013 wrote it. Hashes keyed as 0012 and 0013 made them.
    Returns (deployment id, rollout id)."""
    from app.services import specs

    secrets = secrets or {}
    key = open_sealed(conn.execute(sa.text("SELECT hash_key FROM installation")).scalar_one())
    now = datetime.now(UTC)
    deployment_id, rollout_id = uuid.uuid4(), uuid.uuid4()
    current = revisions[-1]
    conn.execute(_deployment.insert().values(
        id=deployment_id, name=name, labels=current.get("labels", {}), revision=len(revisions),
        resource_version=len(revisions), generation=len(revisions), observed_generation=0,
        deleting=False, phase="progressing", replicas=current["replicas"], ready_replicas=0,
        updated_replicas=0, unavailable_replicas=0, message="", conditions=[],
        slot_restarts={}, look_again=False, created_at=now, updated_at=now))
    for number, spec in enumerate(revisions, start=1):
        conn.execute(_revision.insert().values(
            deployment_id=deployment_id, number=number, spec=spec, secrets=secrets,
            template_hash=specs.template_hash(key.encode(), spec, secrets),
            spec_hash=specs.spec_hash(key.encode(), spec, secrets),
            restart_nonce="", pin_from_registry=False, created_at=now))
    conn.execute(_rollout.insert().values(
        id=rollout_id, deployment_id=deployment_id, deployment_name=name,
        kind="create" if len(revisions) == 1 else "update",
        from_revision=len(revisions) - 1 or None, to_revision=len(revisions),
        state="pending", desired=current["replicas"], updated=0, ready=0, unavailable=0,
        message="", created_at=now))
    return deployment_id, rollout_id
