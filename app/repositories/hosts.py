from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Host, Replica
from app.repositories.pagination import cut_page, decode_cursor


def get_by_name(session: Session, name: str, *, for_update: bool = False) -> Host:
    query = select(Host).where(Host.name == name)
    if for_update:  # the row as it is once locked (see deployments.get_by_name)
        query = query.with_for_update().execution_options(populate_existing=True)
    host = session.scalar(query)
    if host is None:
        raise NotFound(f"host {name!r} does not exist")
    return host


def find_by_name(session: Session, name: str) -> Host | None:
    return session.scalar(select(Host).where(Host.name == name))


def list_page(session: Session, limit: int, cursor: str | None) -> tuple[list[Host], str | None]:
    after = decode_cursor(cursor, Host.name)
    query = select(Host).order_by(Host.name).limit(limit + 1)
    if after is not None:
        query = query.where(Host.name > after)
    rows = list(session.scalars(query))
    return cut_page(rows, limit, lambda r: r.name)


def all_hosts(session: Session, *, for_update: bool = False) -> list[Host]:
    query = select(Host).order_by(Host.name)
    if for_update:  # in one order, so two lockers never deadlock; the rows as locked
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(session.scalars(query))


def replica_count(session: Session, host_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).where(Replica.host_id == host_id)) or 0
