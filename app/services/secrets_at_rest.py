"""Sealing every stored secret again with the newest key (after a rotation, or to seal
values written before sealing existed)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

import app.models  # noqa: F401  (every model must be mapped to be found below)
from app.db import Base
from app.sealing import SealedJSON, SealedText


def sealed_columns() -> dict[type, list[str]]:
    """Every model attribute stored sealed, found from the mappings themselves."""
    found: dict[type, list[str]] = {}
    for mapper in Base.registry.mappers:
        for attr in mapper.column_attrs:
            if any(isinstance(c.type, (SealedText, SealedJSON)) for c in attr.columns):
                found.setdefault(mapper.class_, []).append(attr.key)
    return found


def reseal(session: Session) -> int:
    """Rewrite every row holding a sealed value; returns how many rows were written."""
    rows = 0
    for model, attrs in sealed_columns().items():
        for row in session.scalars(select(model)):
            for attr in attrs:
                if getattr(row, attr) is not None:
                    flag_modified(row, attr)
            rows += 1
        session.flush()
    return rows
