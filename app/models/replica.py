from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Replica(Base):
    """One container Moorage owns, as last observed. Docker's labels are the ground truth."""

    __tablename__ = "replica"
    __table_args__ = (UniqueConstraint("deployment_id", "host_id", "container_name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), index=True
    )
    host_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("host.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    template_hash: Mapped[str] = mapped_column(String(64))
    container_id: Mapped[str | None] = mapped_column(String(64))
    container_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="creating")
    health: Mapped[str] = mapped_column(String(16), default="none")
    ports: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restart_count: Mapped[int] = mapped_column(Integer, default=0)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    last_probe: Mapped[str | None] = mapped_column(Text)
    last_probe_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    probe_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
