from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Rollout(Base):
    __tablename__ = "rollout"
    # A deployment's rollouts newest first, read from the index's end: its latest rollout
    # (every deployment view shows it) in one index probe, however many it has had.
    __table_args__ = (Index("ix_rollout_deployment_id_created_at", "deployment_id",
                            "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # SET NULL: a delete rollout outlives its deployment, so callers can see it finish.
    deployment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deployment.id", ondelete="SET NULL")
    )
    deployment_name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    from_revision: Mapped[int | None] = mapped_column(Integer)
    to_revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    desired: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    ready: Mapped[int] = mapped_column(Integer, default=0)
    unavailable: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The progress mark (app.reconcile.progress.Mark), set at the rollout's first pass:
    # the most replicas of its target seen ready at once, the fewest containers seen left
    # to remove, and when either last got better (the progress deadline counts from it).
    progress_ready: Mapped[int | None] = mapped_column(Integer)
    progress_surplus: Mapped[int | None] = mapped_column(Integer)
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
