from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.sealing import SealedJSON


class Stack(Base):
    """An application of several services from one Compose file, released as one. Each
    service is a deployment ``<stack>-<service>`` that belongs to it (deployment.stack_id)."""

    __tablename__ = "stack"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    resource_version: Mapped[int] = mapped_column(Integer, default=1)
    deleting: Mapped[bool] = mapped_column(default=False)
    # Asked with the delete: remove the stack's named volumes too (never by default).
    delete_volumes: Mapped[bool] = mapped_column(default=False)
    # The aggregate of its services, as the last step saw them.
    phase: Mapped[str] = mapped_column(String(16), default="pending")
    message: Mapped[str] = mapped_column(Text, default="")
    # At most one step job waits in the broker (as deployment.job_queued_at).
    step_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StackRevision(Base):
    """One number for the whole file: its text, and what it maps to."""

    __tablename__ = "stack_revision"
    __table_args__ = (UniqueConstraint("stack_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stack_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stack.id", ondelete="CASCADE"),
                                                index=True)
    number: Mapped[int] = mapped_column(Integer)
    compose: Mapped[str] = mapped_column(Text)  # the file as it was sent
    # Per service, in depends_on order: name, deployment, depends_on, failure_action, and
    # what its deployment is applied with (public spec, typed template, replicas), so a
    # rollback applies what was stored, never re-validated by the request model.
    services: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    volumes: Mapped[list[str]] = mapped_column(JSON, default=list)  # the stack's own
    networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The secret values, per service (env name -> value): write-only, sealed.
    secrets: Mapped[dict[str, dict[str, str]]] = mapped_column(SealedJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StackRollout(Base):
    """A stack's release of one revision: its services rolled out in depends_on order.
    Its id is answered by GET /v1/rollouts/{id} like a deployment's rollout."""

    __tablename__ = "stack_rollout"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # SET NULL: a delete rollout outlives its stack, so callers can see it finish.
    stack_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stack.id", ondelete="SET NULL"), index=True)
    stack_name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))  # create | update | rollback | delete
    from_revision: Mapped[int | None] = mapped_column(Integer)
    to_revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    # service -> the id of the deployment rollout its apply started (null: the service
    # needed no change), written as each service is applied.
    applied: Mapped[dict[str, str | None]] = mapped_column(JSON, default=dict)
    # How far it has come (app.reconcile.stacks.progress_mark) and when that last grew:
    # a release that cannot move by itself ends past its services' longest deadline.
    progress_mark: Mapped[int | None] = mapped_column(Integer)
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
