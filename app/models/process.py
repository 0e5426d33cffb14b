from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class ProcessHeartbeat(Base):
    """A worker or beat process, as it last said it lives (from a thread of its own, so a
    wedged task pool or a lost broker does not silence it). One row per process start;
    a process that stops cleanly deletes its row, one that dies leaves it to go stale."""

    __tablename__ = "process_heartbeat"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(16))  # worker | beat
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The last time it was seen working with the broker: a worker's consumer loop ran
    # while connected; beat sent a job. Null until the first time.
    broker_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
