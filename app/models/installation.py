from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.sealing import SealedText


class Installation(Base):
    """Who this installation is: one row, made by migration 0012.

    ``installation_id`` labels every container it makes (so installations sharing an
    engine never collect each other's); ``hash_key`` keys the template and spec hashes,
    so a container's name says nothing anyone can compute from a guess at its secrets.
    Neither depends on the database URL: a new password or a moved database changes
    neither."""

    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    installation_id: Mapped[str] = mapped_column(String(32))
    hash_key: Mapped[str] = mapped_column(SealedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
