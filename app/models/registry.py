from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.sealing import SealedText


class RegistryCredential(Base):
    """Credentials every deployment pulling from ``name`` (as in image references) uses, unless it brings its
    own. The password is write-only: never returned, logged or put in an event."""

    __tablename__ = "registry_credential"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    username: Mapped[str] = mapped_column(String(255))
    password: Mapped[str] = mapped_column(SealedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
