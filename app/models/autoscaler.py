from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class AutoscalerState(Base):
    """What the autoscaler remembers of a deployment between looks, and its last
    decision. Apart from the deployment row, so a look every few seconds neither bumps
    its resource_version nor waits on its lock unless it scales."""

    __tablename__ = "autoscaler_state"

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True
    )
    # app.reconcile.autoscale.state_to_dict: recent recommendations and scale-ups.
    memory: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    current_replicas: Mapped[int] = mapped_column(Integer)
    desired_replicas: Mapped[int] = mapped_column(Integer)
    recommendation: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
