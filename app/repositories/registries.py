from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import RegistryCredential
from app.repositories.pagination import cut_page, decode_cursor


def find(session: Session, registry: str) -> RegistryCredential | None:
    return session.get(RegistryCredential, registry)


def get(session: Session, registry: str) -> RegistryCredential:
    credential = find(session, registry)
    if credential is None:
        raise NotFound(f"no credentials for registry {registry!r}")
    return credential


def page(
    session: Session, limit: int, cursor: str | None
) -> tuple[list[RegistryCredential], str | None]:
    """By registry name."""
    after = decode_cursor(cursor, RegistryCredential.name)
    query = select(RegistryCredential).order_by(RegistryCredential.name).limit(limit + 1)
    if after is not None:
        query = query.where(RegistryCredential.name > after)
    return cut_page(list(session.scalars(query)), limit, lambda c: c.name)


def add(session: Session, credential: RegistryCredential) -> RegistryCredential:
    session.add(credential)
    session.flush()
    return credential


def delete(session: Session, credential: RegistryCredential) -> None:
    session.delete(credential)
    session.flush()
