from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.sealing import SealedJSON, SealedText


class Deployment(Base):
    """Desired state (via its current revision) plus the last observed status."""

    __tablename__ = "deployment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    resource_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped on every change of desired state; the reconciler records the one it reached.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    observed_generation: Mapped[int] = mapped_column(Integer, default=0)
    deleting: Mapped[bool] = mapped_column(default=False)
    # The stack it is a service of (changed only through the stack), or None. No foreign
    # key (see migration 0021): a stack's row goes only once its deployments have gone.
    stack_id: Mapped[uuid.UUID | None] = mapped_column(index=True)

    phase: Mapped[str] = mapped_column(String(16), default="pending")
    # The desired replica count (the API's spec.replicas): the deployment's, not a
    # revision's. Written by apply (and, while autoscale is set, the autoscaler, through
    # the same scale path); the reconciler reads it and never writes it.
    replicas: Mapped[int] = mapped_column(Integer, default=0)
    # The autoscale policy (the API's spec.autoscale), or None. The deployment's, like
    # ``replicas``: changing it makes no revision. While set, the autoscaler writes
    # ``replicas`` (through the same scale path as apply).
    autoscale: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    ready_replicas: Mapped[int] = mapped_column(Integer, default=0)
    updated_replicas: Mapped[int] = mapped_column(Integer, default=0)
    unavailable_replicas: Mapped[int] = mapped_column(Integer, default=0)
    observed_revision: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    # One reconciler at a time: a lease a dead worker cannot hold past its expiry.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_reconcile_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # At most one job per deployment waits in the broker: set when one is sent, cleared
    # when a worker picks it up; a send while it is set is absorbed (app.jobs).
    job_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A job arrived while another worker held the lease: that worker looks again at the end.
    look_again: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Crash back-off per replica slot: {"<slot>": {"count": n, "last_at": iso}}.
    slot_restarts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # The port every edge serves its endpoint on: chosen once (or as asked) and kept,
    # even while the spec has no endpoint, so callers' URLs do not move.
    endpoint_listen_port: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)
    # What the edges serve for it, written by its reconciler (app.services.endpoints):
    # {"hostnames", "drain_timeout_s", "upstreams": [{"host", "replica", "address",
    # "revision", "state"}]}; None: nothing. The edges' whole config is built from these.
    endpoint_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Revision(Base):
    """An immutable, numbered template. Secret values live apart from the public spec.
    Not the replica count: that is the deployment's (scaling makes no revision)."""

    __tablename__ = "revision"
    __table_args__ = (UniqueConstraint("deployment_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    # The public spec as the API took it (no secret values, no password, no replicas):
    # what the API shows, diffs and merges patches into. Workers never read it.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the workers run: app.reconcile.template.Template.to_dict(), with its
    # schema_version; read with template.from_dict (app.services.specs builds it).
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    secrets: Mapped[dict[str, str]] = mapped_column(SealedJSON, default=dict)
    # The password of spec.registry_auth (the spec keeps only the username).
    registry_password: Mapped[str | None] = mapped_column(SealedText)
    # Hash of what a container is made from (not replicas/strategy): equal hash, no replace.
    template_hash: Mapped[str] = mapped_column(String(64))
    # Keyed hash of the public spec and write-only values. Written still, but no longer
    # what "the same spec" is decided by: that compares templates and write-only values
    # (app.services.deployments.same_spec), which pre-0012 unkeyed hashes and the
    # replica count they covered cannot confuse.
    spec_hash: Mapped[str] = mapped_column(String(64))
    image_digest: Mapped[str | None] = mapped_column(String(255))
    # What hosts pull to get exactly image_digest: ``repository@sha256:...`` when the
    # image came from a registry; else null, and hosts pull the spec's reference.
    image_pull_ref: Mapped[str | None] = mapped_column(String(1024))
    # Resolve the tag by pulling it (a registry said it moved), not from a host's copy.
    pin_from_registry: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Part of the template hash: a restart changes it, so every replica is replaced.
    restart_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
