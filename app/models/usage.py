from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

_BIG = BigInteger().with_variant(Integer, "sqlite")


class UsageSample(Base):
    """One reading of what a running replica consumed. A short window only: the sampler
    deletes samples older than ``usage_retention_s`` at each tick, so the table holds
    about replicas × retention / interval rows.

    Keyed by container id, not replica row: a sample is of one container's run. The raw
    CPU counters are kept so the next one-shot reading, which carries no earlier one,
    has one to take its CPU % against."""

    __tablename__ = "usage_sample"
    __table_args__ = (Index("ix_usage_sample_container_sampled", "container_id", "sampled_at"),)

    id: Mapped[int] = mapped_column(_BIG, primary_key=True, autoincrement=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), index=True
    )
    container_id: Mapped[str] = mapped_column(String(64))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    cpu_percent: Mapped[float | None] = mapped_column(Float)  # of one core
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    memory_percent: Mapped[float | None] = mapped_column(Float)  # of its limit
    cpu_total_ns: Mapped[int] = mapped_column(BigInteger)
    system_cpu_ns: Mapped[int | None] = mapped_column(BigInteger)
    online_cpus: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the engine's clock
