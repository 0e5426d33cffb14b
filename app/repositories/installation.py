from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Installation


def get(session: Session) -> Installation | None:
    return session.get(Installation, 1)
